"""Scene-inference output paths are checked before any work: no output equal to another or to
an input (also through symlinks), every output folder writable; stale .part files cleaned."""
import os
import subprocess
import sys

import pytest

from lszoo.apis.scene.outputs import check_output_files, part_path, remove_stale_parts
from lszoo.errors import ConfigError, DataError


@pytest.fixture
def scene(tmp_path):
    path = tmp_path / 'scene.tif'
    path.write_bytes(b'x')
    return path


def test_prob_equal_to_output_is_refused(tmp_path, scene):
    out = str(tmp_path / 'mask.tif')
    with pytest.raises(ConfigError, match=r'^OUTPUT and --prob both name .*mask\.tif'):
        check_output_files({'OUTPUT': out, '--prob': out}, {'INPUT': str(scene)})
    # another spelling of the same file
    other = str(tmp_path / 'sub' / '..' / 'mask.tif')
    (tmp_path / 'sub').mkdir()
    with pytest.raises(ConfigError, match=r'are the same file'):
        check_output_files({'OUTPUT': out, '--polygons': None, '--prob': other},
                           {'INPUT': str(scene)})


def test_polygons_equal_to_either_is_refused(tmp_path, scene):
    out, prob = str(tmp_path / 'mask.tif'), str(tmp_path / 'prob.tif')
    for clash, first in ((out, 'OUTPUT'), (prob, '--prob')):
        with pytest.raises(ConfigError, match=rf'^{first} and --polygons both name'):
            check_output_files({'OUTPUT': out, '--prob': prob, '--polygons': clash},
                               {'INPUT': str(scene)})


def test_output_equal_to_input_also_through_symlink(tmp_path, scene):
    with pytest.raises(DataError, match=r'--prob .*scene\.tif is the INPUT file'):
        check_output_files({'OUTPUT': str(tmp_path / 'm.tif'), '--prob': str(scene)},
                           {'INPUT': str(scene)})
    link = tmp_path / 'link.tif'
    link.symlink_to(scene)
    with pytest.raises(DataError, match=r'OUTPUT .*link\.tif is the INPUT file .*both resolve '
                                        r'to .*scene\.tif'):
        check_output_files({'OUTPUT': str(link)}, {'INPUT': str(scene)})
    dem = tmp_path / 'dem.tif'
    dem.write_bytes(b'd')
    linkdir = tmp_path / 'ld'
    linkdir.symlink_to(tmp_path)
    with pytest.raises(DataError, match=r'is the --dem file'):
        check_output_files({'OUTPUT': str(linkdir / 'dem.tif')},
                           {'INPUT': str(scene), '--dem': str(dem)})


def test_unwritable_or_missing_folder_is_refused(tmp_path, scene, monkeypatch):
    with pytest.raises(DataError, match=r'--polygons .*: output folder .*nowhere does not exist'):
        check_output_files({'OUTPUT': str(tmp_path / 'm.tif'),
                            '--polygons': str(tmp_path / 'nowhere' / 'p.gpkg')},
                           {'INPUT': str(scene)})
    ro = str(tmp_path / 'ro')
    os.mkdir(ro)
    real_access = os.access
    monkeypatch.setattr(os, 'access', lambda p, mode: False if p == ro else real_access(p, mode))
    with pytest.raises(DataError, match=r'--polygons .*ro/p\.gpkg: output folder .*ro is not '
                                        r'writable'):
        check_output_files({'OUTPUT': str(tmp_path / 'm.tif'),
                            '--polygons': os.path.join(ro, 'p.gpkg')}, {'INPUT': str(scene)})


def test_stale_parts_of_dead_processes_are_removed(tmp_path):
    out = tmp_path / 'mask.tif'
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f'.mask.tif.lszoo-tmp-{dead}'
    stale.write_bytes(b'half')
    tiled = tmp_path / f'.mask.tif.lszoo-tmp-{dead}.tiled'  # the writer's intermediate
    tiled.write_bytes(b'half')
    mine = part_path(str(out))
    open(mine, 'wb').close()
    other = tmp_path / f'.prob.tif.lszoo-tmp-{dead}'  # another output: not touched
    other.write_bytes(b'x')
    assert sorted(remove_stale_parts(str(out))) == sorted([str(stale), str(tiled)])
    assert sorted(os.listdir(tmp_path)) == sorted([os.path.basename(mine), other.name])
