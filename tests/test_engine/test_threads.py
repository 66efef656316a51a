"""lszoo.engine.threads: the trainer's torch threads from the free cores, one thread per data
loader worker with mmengine's seeds unchanged, and LSZooRunner applying both from env_cfg."""
import os
import random

import numpy as np
import pytest
import torch
from helpers import load_script
from mmengine.runner import Runner
from torch.utils.data import Dataset

from lszoo.engine.threads import (available_cpus, choose_torch_threads, one_thread_worker_init,
                                  with_worker_threads)
from lszoo.errors import ConfigError


def test_auto_takes_the_free_cores_and_respects_an_explicit_env():
    assert choose_torch_threads('auto', cpus=4, load=0.0, environ={}) == 4
    assert choose_torch_threads('auto', cpus=4, load=2.3, environ={}) == 2
    assert choose_torch_threads('auto', cpus=2, load=2.0, environ={}) == 1  # busy: one thread
    assert choose_torch_threads('auto', cpus=2, load=9.0, environ={}) == 1
    assert choose_torch_threads('auto', cpus=4, load=0.0, environ={'OMP_NUM_THREADS': '3'}) == 3
    assert choose_torch_threads(5) == 5
    assert choose_torch_threads(None) is None
    for bad in (0, 'many', 1.5):
        with pytest.raises(ConfigError, match='torch_threads'):
            choose_torch_threads(bad)


def test_available_cpus_is_the_affinity_capped_by_the_cgroup_quota(tmp_path, monkeypatch):
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: {0, 1, 2, 3})
    cpu_max = tmp_path / 'cpu.max'
    assert available_cpus(str(tmp_path / 'absent')) == 4  # no cgroup v2 file: the affinity
    for text, want in (('max 100000\n', 4), ('150000 100000\n', 2), ('50000 100000\n', 1),
                       ('800000 100000\n', 4), ('garbage\n', 4)):
        cpu_max.write_text(text)
        assert available_cpus(str(cpu_max)) == want, text


class _Probe(Dataset):
    """Reports, from inside a loader worker, its thread settings and random draws."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        import cv2
        return dict(torch_threads=torch.get_num_threads(), cv2=cv2.getNumThreads(),
                    omp=os.environ.get('OMP_NUM_THREADS'), np=int(np.random.randint(1 << 30)),
                    py=random.randint(0, 1 << 30), torch_rand=float(torch.rand(1)))


def _loader(init_threads):
    cfg = dict(batch_size=1, num_workers=1, dataset=_Probe(),
               collate_fn=dict(type='pseudo_collate'),
               sampler=dict(type='DefaultSampler', shuffle=False))
    cfg = with_worker_threads(cfg, seed=7, rank=0, threads=init_threads)
    return [b for b in Runner.build_dataloader(cfg, seed=7)]


def test_workers_run_one_thread_with_mmengine_seeds(monkeypatch):
    import cv2
    monkeypatch.setenv('OMP_NUM_THREADS', '4')
    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        default, limited = _loader(None), _loader(1)
    finally:
        cv2.setNumThreads(before)
    d, lim = ({k: v[0] for k, v in batches[0].items()} for batches in (default, limited))
    assert d['omp'] == '4' and lim['omp'] == '1'
    assert lim['torch_threads'] == 1 and lim['cv2'] <= 1
    for key in ('np', 'py', 'torch_rand'):  # seeding identical to mmengine's default init
        assert [b[key] for b in default] == [b[key] for b in limited]


def test_loader_configs_left_alone_when_they_choose():
    own = dict(num_workers=2, worker_init_fn=dict(type='x'))
    assert with_worker_threads(own, 1, 0) is own
    assert with_worker_threads(dict(num_workers=0), 1, 0) == dict(num_workers=0)
    cfg = with_worker_threads(dict(num_workers=2, disable_subprocess_warning=True), 3, 1)
    fn = cfg['worker_init_fn']
    assert fn['type'] is one_thread_worker_init and fn['seed'] == 3 and fn['rank'] == 1
    assert fn['disable_subprocess_warning'] is True and 'disable_subprocess_warning' not in cfg


def test_runner_applies_env_cfg(tiny_config):
    from mmengine.config import Config

    from lszoo.engine import build_runner
    path = tiny_config(iters=1, num_workers=1,
                       options={'env_cfg.torch_threads': 2, 'env_cfg.worker_threads': 1})
    old = torch.get_num_threads()
    try:
        runner = build_runner(Config.fromfile(path))
        assert torch.get_num_threads() == 2
        init = runner.train_dataloader.worker_init_fn
        assert init.func is one_thread_worker_init and init.keywords['threads'] == 1
    finally:
        torch.set_num_threads(old)


def test_benchmark_threads_tool_checks_input_and_stops_its_busy_processes(capsys):

    tool = load_script('tools/analysis_tools/benchmark_threads.py')
    assert tool.main(['--iters', '0']) == 2
    assert tool.main(['missing_config.py']) == 2
    assert 'missing_config.py does not exist' in capsys.readouterr().err
    procs = tool.start_busy(2)
    tool.stop_busy(procs)
    assert all(p.poll() is not None for p in procs)
