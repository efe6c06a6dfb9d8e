"""Lighthouse-style checks run in the page itself, without downloading anything: every control has a name
a screen reader can say, and text meets WCAG AA contrast (4.5:1) against the background it is drawn on."""

from __future__ import annotations

import re

from playwright.async_api import Page

_UNNAMED = """[...document.querySelectorAll('button, input:not([type=hidden]), select, textarea, a[href], summary')]
  .filter(el => el.getClientRects().length > 0)
  .filter(el => !((el.textContent || '').trim() || el.getAttribute('aria-label') || el.getAttribute('title') ||
                  (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label')))
  .map(el => el.outerHTML.slice(0, 160))"""

_COLOURS = """selector => {
  const bg = el => { for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
  return [...document.querySelectorAll(selector)]
    .filter(el => el.getClientRects().length > 0 && !el.disabled && (el.textContent || '').trim())
    .map(el => [el.tagName + '.' + el.className, getComputedStyle(el).color, bg(el)]); }"""


async def unnamed_controls(page: Page) -> list[str]:
    found: list[str] = await page.evaluate(_UNNAMED)
    return found


def _luminance(rgb: str) -> float:
    channels = [int(v) / 255 for v in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


async def low_contrast(page: Page, selector: str) -> list[tuple[str, float]]:
    """The elements matching `selector` whose text is below 4.5:1 against their background."""
    pairs: list[list[str]] = await page.evaluate(_COLOURS, selector)
    assert pairs, f"nothing matched {selector}"
    return [(name, round(contrast(fg, bg), 2)) for name, fg, bg in pairs if contrast(fg, bg) < 4.5]
