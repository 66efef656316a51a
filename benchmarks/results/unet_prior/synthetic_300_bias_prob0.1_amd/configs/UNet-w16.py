bands = [
    'R',
    'G',
    'B',
    'DEM',
    'slope',
]
crop_size = (
    64,
    64,
)
custom_hooks = [
    dict(type='IterationSeedHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'lszoo',
    ])
data_preprocessor = dict(
    bgr_to_rgb=False,
    mean=None,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=16,
    std=None,
    test_cfg=dict(size_divisor=16),
    type='SegDataPreProcessor')
data_root = None
dataset_type = 'SyntheticLandslideDataset'
default_hooks = dict(
    checkpoint=dict(
        by_epoch=False,
        interval=300,
        max_keep_ckpts=1,
        type='SafeRotationCheckpointHook'),
    logger=dict(interval=30, log_metric_by_epoch=False, type='LoggerHook'),
    param_scheduler=dict(type='ParamSchedulerHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    timer=dict(type='IterTimerHook'),
    visualization=dict(draw=False, type='SegVisualizationHook'))
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    torch_threads='auto',
    worker_threads=1)
in_channels = 5
load_from = None
log_level = 'INFO'
log_processor = dict(by_epoch=False)
meta_keys = (
    'img_path',
    'seg_map_path',
    'ori_shape',
    'img_shape',
    'pad_shape',
    'scale_factor',
    'flip',
    'flip_direction',
    'reduce_zero_label',
    'band_names',
    'stream_layout',
    'crs',
    'transform',
)
model = dict(
    backbone=dict(
        act_cfg=dict(type='ReLU'),
        base_channels=16,
        conv_cfg=None,
        dec_dilations=(
            1,
            1,
            1,
            1,
        ),
        dec_num_convs=(
            2,
            2,
            2,
            2,
        ),
        downsamples=(
            True,
            True,
            True,
            True,
        ),
        enc_dilations=(
            1,
            1,
            1,
            1,
            1,
        ),
        enc_num_convs=(
            2,
            2,
            2,
            2,
            2,
        ),
        in_channels=5,
        norm_cfg=dict(requires_grad=True, type='BN'),
        norm_eval=False,
        num_stages=5,
        strides=(
            1,
            1,
            1,
            1,
            1,
        ),
        type='UNet',
        upsample_cfg=dict(type='InterpConv'),
        with_cp=False),
    data_preprocessor=dict(
        bgr_to_rgb=False,
        mean=None,
        pad_val=0,
        seg_pad_val=255,
        size_divisor=16,
        std=None,
        test_cfg=dict(size_divisor=16),
        type='SegDataPreProcessor'),
    decode_head=dict(
        align_corners=False,
        channels=16,
        concat_input=False,
        dropout_ratio=0.0,
        in_channels=16,
        in_index=4,
        init_cfg=dict(
            bias_prob=0.1,
            override=dict(name='conv_seg'),
            std=0.01,
            type='Normal'),
        loss_decode=[
            dict(
                avg_non_ignore=True,
                loss_weight=1.0,
                type='CrossEntropyLoss',
                use_sigmoid=True),
            dict(
                alpha=0.3, beta=0.7, loss_weight=1.0,
                type='BinaryTverskyLoss'),
        ],
        norm_cfg=dict(requires_grad=True, type='BN'),
        num_classes=2,
        num_convs=1,
        out_channels=1,
        threshold=0.5,
        type='FCNHead'),
    pretrained=None,
    test_cfg=dict(mode='whole'),
    train_cfg=dict(),
    type='EncoderDecoder')
norm_cfg = dict(requires_grad=True, type='BN')
optim_wrapper = dict(
    optimizer=dict(
        betas=(
            0.9,
            0.999,
        ), lr=0.001, type='Adam', weight_decay=0.0),
    type='OptimWrapper')
param_scheduler = []
randomness = dict(seed=42)
resume = False
runner_type = 'LSZooRunner'
scene_size = 128
stream_layout = dict(
    optical=[
        0,
        1,
        2,
    ], topo=[
        3,
        4,
    ])
test_after_train = False
test_cfg = dict(type='TestLoop')
test_dataloader = dict(
    batch_size=1,
    dataset=dict(
        bands=[
            'R',
            'G',
            'B',
            'DEM',
            'slope',
        ],
        hard=True,
        num_samples=64,
        pipeline=[
            dict(
                meta_keys=(
                    'img_path',
                    'seg_map_path',
                    'ori_shape',
                    'img_shape',
                    'pad_shape',
                    'scale_factor',
                    'flip',
                    'flip_direction',
                    'reduce_zero_label',
                    'band_names',
                    'stream_layout',
                    'crs',
                    'transform',
                ),
                type='PackSegInputs'),
        ],
        seed=3,
        size=128,
        type='SyntheticLandslideDataset'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=False, type='DefaultSampler'))
test_evaluator = dict(type='LandslideMetric')
test_pipeline = [
    dict(
        meta_keys=(
            'img_path',
            'seg_map_path',
            'ori_shape',
            'img_shape',
            'pad_shape',
            'scale_factor',
            'flip',
            'flip_direction',
            'reduce_zero_label',
            'band_names',
            'stream_layout',
            'crs',
            'transform',
        ),
        type='PackSegInputs'),
]
train_cfg = dict(max_iters=300, type='IterBasedTrainLoop', val_interval=300)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        bands=[
            'R',
            'G',
            'B',
            'DEM',
            'slope',
        ],
        hard=True,
        num_samples=256,
        pipeline=[
            dict(crop_size=(
                64,
                64,
            ), type='RandomCrop'),
            dict(
                direction=[
                    'horizontal',
                    'vertical',
                ],
                prob=0.5,
                type='RandomFlip'),
            dict(
                meta_keys=(
                    'img_path',
                    'seg_map_path',
                    'ori_shape',
                    'img_shape',
                    'pad_shape',
                    'scale_factor',
                    'flip',
                    'flip_direction',
                    'reduce_zero_label',
                    'band_names',
                    'stream_layout',
                    'crs',
                    'transform',
                ),
                type='PackSegInputs'),
        ],
        seed=1,
        size=128,
        type='SyntheticLandslideDataset'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=True, type='InfiniteSampler'))
train_pipeline = [
    dict(crop_size=(
        64,
        64,
    ), type='RandomCrop'),
    dict(direction=[
        'horizontal',
        'vertical',
    ], prob=0.5, type='RandomFlip'),
    dict(
        meta_keys=(
            'img_path',
            'seg_map_path',
            'ori_shape',
            'img_shape',
            'pad_shape',
            'scale_factor',
            'flip',
            'flip_direction',
            'reduce_zero_label',
            'band_names',
            'stream_layout',
            'crs',
            'transform',
        ),
        type='PackSegInputs'),
]
tta_model = None
val_cfg = None
val_dataloader = None
val_evaluator = None
vis_backends = [
    dict(type='LocalVisBackend'),
]
visualizer = dict(
    name='visualizer',
    type='SegLocalVisualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
    ])
width = 16
work_dir = '/work/wt/syn10/UNet-w16'
