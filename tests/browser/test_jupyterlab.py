"""The tour notebook in a real JupyterLab, driven by Debian's chromium (Playwright).

What a person sees is what is tested: a JupyterLab server is started on a free
port over a temporary copy of ``notebooks/``, chromium opens the tour, runs
all cells from the Run menu, and the rendered page is checked: result tables
and the plan tree are on screen, the branch tree widget is live (clicking a
branch checks it out), and no cell shows an error. Screenshots land in
``tests/browser/artifacts/`` (git-ignored) for a human to look at.

The server, browser and the helpers that drive them are in ``conftest.py`` and
``lab_session.py``.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.lab_session import CHROMIUM, open_and_run_all, shoot

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")


@pytest.fixture(scope="module")
def tour(page, lab_server):
    tab = open_and_run_all(page, lab_server, "00-tour.ipynb")
    tab.wait_for_timeout(1000)
    return tab


def test_tour_runs_without_error_outputs(tour):
    errors = tour.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    texts = errors.all_text_contents()
    assert texts == [], "\n---\n".join(texts)


def test_tour_shows_result_tables(tour):
    tables = tour.locator(".jp-OutputArea-output .rmdb-table")
    assert tables.count() >= 8
    first = tables.first
    first.scroll_into_view_if_needed()
    # JupyterLab renders cells lazily as they scroll in: wait for the text, don't read it once.
    expect(first).to_be_visible(timeout=20_000)
    expect(first).to_contain_text("INTEGER", timeout=20_000)
    expect(first).to_contain_text("ACME", timeout=20_000)
    shot = shoot(tour, first, "tour-table.png")
    assert shot.stat().st_size > 10_000


def test_tour_shows_the_strict_type_error(tour):
    box = tour.locator(".rmdb-error").first
    box.scroll_into_view_if_needed()
    expect(box).to_contain_text("42804", timeout=20_000)
    expect(box).to_contain_text("^", timeout=20_000)


def test_tour_shows_branches_side_by_side(tour):
    panels = tour.locator(".rmdb-side-by-side .rmdb-panel")
    assert panels.count() == 2
    shoot(tour, panels.first, "tour-side-by-side.png")


def test_tour_shows_the_plan_tree(tour):
    cards = tour.locator(".rmdb-plan .rmdb-plan-card")
    assert cards.count() >= 3
    cards.first.scroll_into_view_if_needed()
    expect(cards.first).to_be_visible(timeout=20_000)
    plan = tour.locator(".rmdb-plan").first
    expect(plan).to_contain_text("slowest", timeout=20_000)
    assert plan.inner_text().count("slowest") == 1
    raw = tour.locator(".rmdb-plan details").first
    raw.locator("summary").click()
    expect(raw.locator("pre")).to_contain_text("Seq Scan", timeout=20_000)
    shoot(tour, cards.first, "tour-plan.png")


def test_tour_branch_tree_widget_checks_out_on_click(tour):
    tree = tour.locator(".rmdb-branch-tree").first
    tree.scroll_into_view_if_needed()
    buttons = tree.locator("button")
    expect(buttons).to_have_count(2, timeout=20_000)
    expect(tree).to_contain_text("what_if", timeout=20_000)
    assert sorted(t.strip() for t in buttons.all_text_contents()) == ["main", "what_if"]
    main = tree.locator("button", has_text="main")
    assert "mod-success" not in (main.get_attribute("class") or "")
    main.click()
    main = tour.locator(".rmdb-branch-tree").first.locator("button", has_text="main")
    expect(main).to_have_class(re.compile("mod-success"), timeout=20_000)
    shoot(tour, tour.locator(".rmdb-branch-tree").first, "tour-branch-tree.png")


# -- 05-jupysql-users: connection string, %sqlcmd, %sqlplot in a real front-end -----------------

@pytest.fixture(scope="module")
def jupysql_users(page, lab_server):
    nb = open_and_run_all(page, lab_server, "05-jupysql-users.ipynb", timeout=240)
    nb.wait_for_timeout(1000)
    yield nb
    nb.close()


def test_jupysql_users_runs_without_error_outputs(jupysql_users):
    errors = jupysql_users.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    texts = errors.all_text_contents()
    assert texts == [], "\n---\n".join(texts)
    assert jupysql_users.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count() == 0


def test_no_news_prompt(jupysql_users):
    assert "official Jupyter news" not in jupysql_users.locator("body").inner_text()


def test_jupysql_users_plots_render_as_images(jupysql_users):
    images = jupysql_users.locator(".jp-OutputArea-output img")
    expect(images.first).to_be_attached(timeout=20_000)
    assert images.count() >= 5
    first = images.first
    first.scroll_into_view_if_needed()
    expect(first).to_be_visible(timeout=20_000)
    assert first.evaluate("img => img.naturalWidth") > 300
    shot = shoot(jupysql_users, first, "jupysql-users-histogram.png")
    assert shot.stat().st_size > 10_000


def test_jupysql_users_profile_grid(jupysql_users):
    grid = jupysql_users.locator(".rmdb-table", has_text="distinct").first
    grid.scroll_into_view_if_needed()
    expect(grid).to_contain_text("freq", timeout=20_000)
    shoot(jupysql_users, grid, "jupysql-users-profile.png")


def test_jupysql_users_explore_pages_on_click(jupysql_users):
    explore = jupysql_users.locator(".rmdb-explore").first
    explore.scroll_into_view_if_needed()
    expect(explore).to_contain_text("rows 1–8 of 6,000", timeout=20_000)
    explore.locator("button", has_text="next ›").click()
    expect(explore).to_contain_text("rows 9–16 of 6,000", timeout=20_000)
    assert explore.locator("button", has_text="‹ previous").is_enabled()
    shoot(jupysql_users, explore, "jupysql-users-explore.png")
