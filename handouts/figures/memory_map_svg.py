#!/usr/bin/env python3
"""Draws the guest memory map figure from `vm_manager --memory-map` output.

Usage: vm_manager --memory-map | memory_map_svg.py > memory-map.svg
(`make figures` runs it as the handout's figure is made.)

Regions are drawn bottom-up, as memory maps usually are, each with its real
addresses and, inside its box, its access ("r-x user"), which holds for the
whole 4 KiB pages the region touches; an area the guest's page tables do not
map has a dashed outline. Small regions get a minimum height so that they stay
readable; the gaps between regions are drawn as short breaks, marked
"unmapped" when they hold a whole page."""
PAGE = 4096
import sys
from html import escape

WIDTH, ROW, GAP, TOP = 900, 34, 18, 60


def regions(lines):
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        start, end, permissions, who, what = line.split(None, 4)
        yield int(start, 16), int(end, 16), f"{permissions} {who}", what.strip()


def color(what):
    if what.startswith("program"):
        return "#f3e8fd", "#6b46c1"
    if what.startswith("stack"):
        return "#fdf1dc", "#b7791f"
    if what.startswith("boot"):
        return "#e8f5e9", "#2f855a"
    if what.startswith("page tables") or what.startswith("exception"):
        return "#e6f0fb", "#2b6cb0"
    return "#f2f2f2", "#888"


def main():
    lines = sys.stdin.read().splitlines()
    title = next((line[2:] for line in lines if line.startswith("# guest")), "guest memory")
    items = list(regions(lines))
    rows = []  # (kind, region or gap) from the top of the figure (high addresses) down
    for i, region in enumerate(reversed(items)):
        if i and region[1] < items[len(items) - i][0]:
            rows.append(("gap", (region[1], items[len(items) - i][0])))
        rows.append(("region", region))
    height = TOP + sum(ROW if kind == "region" else GAP for kind, _ in rows) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
           f'font-size="13">',
           "  <title>The guest physical memory map, from vm_manager --memory-map</title>",
           f'  <rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
           f'  <text x="{WIDTH // 2}" y="26" text-anchor="middle" font-size="17" '
           f'font-weight="bold">{escape(title)}</text>',
           f'  <text x="{WIDTH // 2}" y="46" text-anchor="middle" fill="#555">drawn from '
           f'vm_manager --memory-map; not to scale. user: ring 3 may use it too; kernel: ring 0 '
           f'only</text>']
    y = TOP
    for kind, region in rows:
        if kind == "gap":
            low, high = region
            whole_page = -(-low // PAGE) * PAGE < high // PAGE * PAGE
            out.append(f'  <text x="300" y="{y + 13}" text-anchor="middle" fill="#999">⋮'
                       f'{" (unmapped)" if whole_page else ""}</text>')
            y += GAP
            continue
        start, end, access, what = region
        fill, stroke = color(what)
        dashed = ' stroke-dasharray="5 3"' if access.endswith("unmapped") else ""
        out.append(f'  <rect x="200" y="{y}" width="200" height="{ROW}" fill="{fill}" '
                   f'stroke="{stroke}"{dashed}/>')
        out.append(f'  <text x="300" y="{y + ROW // 2 + 5}" text-anchor="middle" '
                   f'font-family="DejaVu Sans Mono, monospace" fill="{stroke}">'
                   f'{escape(access)}</text>')
        out.append(f'  <text x="190" y="{y + ROW - 4}" text-anchor="end" '
                   f'font-family="DejaVu Sans Mono, monospace">0x{start:08x}</text>')
        out.append(f'  <text x="190" y="{y + 12}" text-anchor="end" fill="#777" '
                   f'font-family="DejaVu Sans Mono, monospace" font-size="11">'
                   f'0x{end:08x}</text>')
        out.append(f'  <text x="410" y="{y + ROW // 2 + 5}">{escape(what)}</text>')
        y += ROW
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
