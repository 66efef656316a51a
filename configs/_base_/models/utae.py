# U-TAE (Garnot & Landrieu, ICCV 2021) for binary landslide segmentation of a time series, with
# the settings the Sen12Landslides authors trained (github.com/PaulH97/Sen12Landslides
# configs/model/utae.yaml: widths 64-64-64-128 / 32-32-64-128, strided conv 4/2/1, att_group,
# GroupNorm encoder, 16 heads, d_model 256, d_k 4, reflect padding; one output channel; no
# positional encoding, src/models/utae.py). The image holds the series date-major, then the DEM
# (Sen12LandslidesDataset, dates='all'); experiment configs set in_channels / n_dates.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=None,
    std=None,
    bgr_to_rgb=False,
    size_divisor=8,  # three stride-2 stages
    pad_val=0,
    seg_pad_val=255,
    test_cfg=dict(size_divisor=8))
encoder_widths = [64, 64, 64, 128]
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='UTAEEncoder',
        in_channels=11,  # per date, DEM included
        n_dates=15,
        static_channels=1,  # the DEM, appended to every date as the authors do
        encoder_widths=encoder_widths,
        str_conv_k=4,
        str_conv_s=2,
        str_conv_p=1,
        encoder_norm='group',
        n_head=16,
        d_model=256,
        d_k=4,
        agg_mode='att_group',
        positional_encoding=False),
    decode_head=dict(
        type='UTAEHead',
        in_channels=encoder_widths,
        decoder_widths=[32, 32, 64, 128],
        dropout_ratio=0.0,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        # the authors' BCEDiceLoss: 0.5 BCE (pos_weight 5) + 0.5 Dice (lit_module/binary.yaml)
        loss_decode=[
            dict(type='BinaryCrossEntropyLoss', pos_weight=5.0, loss_weight=0.5),
            dict(type='BinaryDiceLoss', loss_weight=0.5)]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
