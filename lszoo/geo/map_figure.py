"""The map figure of a scene quicklook: title, legend, scale bar, graticule, north arrow.

Pure helpers (:func:`nice_step`, :func:`tick_positions`, :func:`scale_bar_length`,
:func:`figure_layout`) choose the numbers; :func:`render_map` draws with matplotlib's Agg canvas
(no pyplot state) and returns the RGB pixels, whose size is exactly the layout's.
"""
import math
from typing import Optional, Sequence, Tuple

import numpy as np

#: margins around the map panel, pixels: room for the title, tick labels and the legend
MARGINS = dict(left=92, right=168, top=46, bottom=58)
DPI = 100
OUTLINE_RGB = (255, 230, 0)
NODATA_RGB = (205, 205, 205)


def nice_step(span: float, target: int = 5) -> float:
    """The 1, 2 or 5 x 10^k step that cuts ``span`` into about ``target`` parts (at most)."""
    if not span > 0:
        raise ValueError(f'span must be > 0, got {span}')
    raw = span / target
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw * (1 - 1e-9):
            return m * mag
    return 10 * mag


def tick_positions(lo: float, hi: float, target: int = 5, margin: float = 0.03) -> np.ndarray:
    """Round-numbered positions inside ``[lo, hi]`` every :func:`nice_step`, leaving out those
    within ``margin`` of the span from either end (their labels would collide at a corner)."""
    lo, hi = min(lo, hi), max(lo, hi)
    step = nice_step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = np.arange(first, hi + step * 1e-9, step)
    pad = margin * (hi - lo)
    return ticks[(ticks >= lo + pad) & (ticks <= hi - pad)]


def scale_bar_length(span: float, fraction: float = 0.25) -> float:
    """The longest 1, 2 or 5 x 10^k length not over ``fraction`` of the map width ``span``."""
    limit = span * fraction
    if not limit > 0:
        raise ValueError(f'span must be > 0, got {span}')
    mag = 10.0 ** math.floor(math.log10(limit))
    return max(m * mag for m in (1, 2, 5) if m * mag <= limit * (1 + 1e-9))


def format_length(metres: float, unit: str = 'm') -> str:
    """``'500 m'``, ``'2 km'`` (``unit`` other than metres: the value and the unit)."""
    if unit == 'm' and metres >= 1000:
        return f'{metres / 1000:g} km'
    return f'{metres:g} {unit}'


def figure_layout(height: int, width: int, max_size: int) -> Tuple[int, int, int, int]:
    """``(panel_h, panel_w, fig_h, fig_w)`` in pixels: the map panel keeps the scene's aspect and
    the whole figure fits ``max_size`` on its longest side."""
    avail_w = max_size - MARGINS['left'] - MARGINS['right']
    avail_h = max_size - MARGINS['top'] - MARGINS['bottom']
    if min(avail_w, avail_h) < 64:
        raise ValueError(f'quicklook max_size {max_size} leaves no room for the map')
    scale = min(avail_w / width, avail_h / height)
    ph, pw = max(1, int(height * scale)), max(1, int(width * scale))
    return (ph, pw, ph + MARGINS['top'] + MARGINS['bottom'],
            pw + MARGINS['left'] + MARGINS['right'])


def compose(rgb: np.ndarray, outline: np.ndarray, nodata: np.ndarray) -> np.ndarray:
    """The panel's pixels: imagery, nodata in grey, landslide outlines in yellow."""
    out = rgb.copy()
    out[nodata] = NODATA_RGB
    out[outline] = OUTLINE_RGB
    return out


def render_map(panel: np.ndarray, bounds: Sequence[float], layout, *, title: str,
               subtitle: str = '', unit: str = 'px', metres_per_unit: Optional[float] = None,
               north_up: bool = False, axis_labels=('x', 'y')) -> np.ndarray:
    """Draw ``panel`` (``H x W x 3`` uint8) over ``bounds`` (left, bottom, right, top in the
    CRS) into a figure of ``layout`` (:func:`figure_layout`); returns its RGB pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ph, pw, fh, fw = layout
    fig = Figure(figsize=(fw / DPI, fh / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes([MARGINS['left'] / fw, MARGINS['bottom'] / fh, pw / fw, ph / fh])
    left, bottom, right, top = bounds
    ax.imshow(panel, extent=(left, right, bottom, top), interpolation='nearest', aspect='auto')
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    _graticule(ax, left, right, bottom, top, axis_labels, unit)
    _scale_bar(ax, right - left, unit, metres_per_unit)
    if north_up:
        ax.annotate('N', xy=(0.93, 0.95), xytext=(0.93, 0.80), xycoords='axes fraction',
                    ha='center', va='center', fontsize=9, fontweight='bold',
                    bbox=dict(boxstyle='round,pad=0.15', fc='white', ec='none', alpha=0.8),
                    arrowprops=dict(facecolor='black', edgecolor='white', width=3,
                                    headwidth=10, headlength=9))
    _legend(fig, ax)
    fig.suptitle(title, x=MARGINS['left'] / fw, ha='left', y=1 - 6 / fh, va='top', fontsize=10)
    if subtitle:
        fig.text(MARGINS['left'] / fw, 1 - 24 / fh, subtitle, ha='left', va='top', fontsize=7.5)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _graticule(ax, left, right, bottom, top, axis_labels, unit):
    ax.set_xticks(tick_positions(left, right))
    ax.set_yticks(tick_positions(bottom, top))
    ax.ticklabel_format(useOffset=False, style='plain')
    ax.tick_params(labelsize=7)
    for label in ax.get_yticklabels():
        label.set_rotation(90)
        label.set_va('center')
    ax.grid(True, color='white', alpha=0.5, lw=0.6, ls='--')
    ax.set_xlabel(f'{axis_labels[0]} ({unit})', fontsize=8)
    ax.set_ylabel(f'{axis_labels[1]} ({unit})', fontsize=8)


def _scale_bar(ax, span, unit, metres_per_unit):
    """A bar of a round length at the lower left, in metres when the units allow."""
    from matplotlib.patches import Rectangle
    per = metres_per_unit or 1.0
    length = scale_bar_length(span * per)
    frac = length / per / span
    x0, y0 = 0.04, 0.05
    ax.add_patch(Rectangle((x0 - 0.015, y0 - 0.03), frac + 0.03, 0.1, transform=ax.transAxes,
                           facecolor='white', alpha=0.75, edgecolor='none'))
    ax.add_patch(Rectangle((x0, y0), frac, 0.015, transform=ax.transAxes, facecolor='black'))
    ax.text(x0 + frac / 2, y0 + 0.03, format_length(length, 'm' if metres_per_unit else unit),
            transform=ax.transAxes, ha='center', va='bottom', fontsize=7)


def _legend(fig, ax):
    from matplotlib.patches import Patch
    handles = [Patch(facecolor='none', edgecolor=np.array(OUTLINE_RGB) / 255, lw=2,
                     label='landslide (outline)'),
               Patch(facecolor=np.array(NODATA_RGB) / 255, edgecolor='0.4', label='nodata')]
    ax.legend(handles=handles, loc='upper left', bbox_to_anchor=(1.02, 1.0), fontsize=7.5,
              frameon=False, borderaxespad=0)
