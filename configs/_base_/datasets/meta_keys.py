# What PackSegInputs keeps of a sample's metadata, for every lszoo dataset base (one list: keys a
# dataset does not produce, e.g. crs/transform of the in-memory synthetic data, are skipped).
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
             'flip', 'flip_direction', 'reduce_zero_label', 'band_names', 'stream_layout', 'crs',
             'transform')
