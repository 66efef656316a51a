# GVLM with the pre-event image as the second stream (for dual-stream models):
# channels 0-2 post-event RGB ('optical'), 3-5 pre-event RGB ('pre').
_base_ = ['./gvlm.py']
bands = ['R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B']
stream_layout = {'optical': [0, 1, 2], 'pre': [3, 4, 5]}
in_channels = 6
train_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
val_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
test_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
