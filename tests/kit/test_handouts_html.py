"""make handouts renders the statement and the answers to HTML, and a browser
shows their figures: headless Chromium loads each page and reports, from the
page itself, how many images loaded."""
import re
import shutil

import pytest

from helpers import BUILD, KIT, run

PAGES = ["lab2", "lab2-answers"]
# Appended to a copy of each page: once everything has loaded, write down how
# many images there are and how many the browser could draw.
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const drawn = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.insertAdjacentHTML("beforeend",
    `<p id="figure-probe">figures drawn: ${drawn} of ${images.length}</p>`);
});
</script>"""


def chromium():
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium is not installed (make test-deps installs it)")
    return browser


@pytest.fixture(scope="module")
def pages():
    result = run(["make", "-s", "handouts"], cwd=KIT, timeout=120)
    assert result.returncode == 0, result.stderr
    return {name: BUILD / "handouts" / f"{name}.html" for name in PAGES}


@pytest.mark.parametrize("name", PAGES)
def test_page_shows_all_its_figures_in_a_browser(pages, tmp_path, name):
    probed = tmp_path / f"{name}.html"
    probed.write_text(pages[name].read_text().replace("</body>", PROBE + "</body>"))
    result = run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                  "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
                 cwd=tmp_path, timeout=90)
    probe = re.search(r"figures drawn: (\d+) of (\d+)", result.stdout)
    assert probe, f"the page did not run its probe; chromium said: {result.stderr[-2000:]}"
    drawn, total = map(int, probe.groups())
    expected = len(re.findall(r"!\[", (KIT / "handouts" / f"{name}.md").read_text()))
    assert total == expected
    assert drawn == total, f"only {drawn} of {total} figures could be drawn"


def test_pages_are_self_contained(pages):
    # Readable offline: no figure, style or script comes from elsewhere.
    for page in pages.values():
        html = page.read_text()
        assert not re.search(r'<img[^>]+src="(?!data:)', html), page
        assert not re.search(r'<link[^>]+href="https?:', html), page
