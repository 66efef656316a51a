"""Walking a config's dataloaders down to the datasets that list files.

Reading a config (``load_config``), overriding it and checking it is :mod:`lszoo.config`; these
walkers stay here because the datasets' checks use them too.
"""


def leaf_datasets(ds, key: str = ''):
    """``(config key, dataset config)`` of every dataset that lists files below the dataset
    config ``ds`` found at ``key``: wrappers (``ConcatDataset``'s ``datasets=[...]``,
    ``RepeatDataset``'s ``dataset=...``, ...) are walked through. Keys are written as
    ``--cfg-options`` takes them (``train_dataloader.dataset.datasets.0``)."""
    if not isinstance(ds, dict):
        return
    if ds.get('datasets') is not None:
        for i, sub in enumerate(ds['datasets']):
            yield from leaf_datasets(sub, f'{key}.datasets.{i}')
    elif ds.get('dataset') is not None:
        yield from leaf_datasets(ds['dataset'], f'{key}.dataset')
    else:
        yield key, ds


def loader_datasets(cfg, loader_key: str):
    """:func:`leaf_datasets` of the dataloader ``cfg[loader_key]`` (none when it is unset)."""
    loader = cfg.get(loader_key)
    if isinstance(loader, dict):
        yield from leaf_datasets(loader.get('dataset'), f'{loader_key}.dataset')
