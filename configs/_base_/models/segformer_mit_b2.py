# SegFormer MiT-B2 (Xie et al., NeurIPS 2021): deeper and wider encoder than B0; the paper's
# all-MLP head width for B2-B5 is 768.
_base_ = ['./segformer_mit_b0.py']
model = dict(
    backbone=dict(embed_dims=64, num_heads=[1, 2, 5, 8], num_layers=[3, 4, 6, 3]),
    decode_head=dict(in_channels=[64, 128, 320, 512], channels=768))
