"""Every page of a list holds exactly the rows LIMIT/OFFSET would give, in the same order,
whether it is read forwards (early pages) or from the far end (late pages), with a deferred
join (one ORM entity) or without (rows of columns), capped count or not."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from fundflow.extensions import db
from fundflow.models import School
from fundflow.services.queries.paging import page_of

#: Names repeat, so the id breaks ties: the order is total only with both.
NAMES = ["Ash", "Beech", "Cedar", "Ash", "Birch", "Cedar", "Ash"]


@pytest.fixture
def schools(app):
    db.session.execute(
        insert(School),
        [{"urn": f"{900000 + i:06d}", "name": NAMES[i % len(NAMES)]} for i in range(23)],
    )
    db.session.commit()


ORDERS = {
    "name then id": (School.name, School.id),
    "name descending then id": (School.name.desc(), School.id),
    "newest first": (School.id.desc(),),
}


def expected(statement, page: int, per_page: int) -> list:
    offset = (page - 1) * per_page
    return list(db.session.execute(statement.limit(per_page).offset(offset)).scalars())


@pytest.mark.usefixtures("schools")
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("per_page", [1, 5, 7, 23, 30])
def test_every_page_of_a_list_of_records_matches_limit_and_offset(order, per_page):
    statement = select(School).where(School.urn >= "900000").order_by(*ORDERS[order])
    for page in range(1, 23 // per_page + 3):
        got = page_of(statement, page, per_page)
        assert [s.id for s in got.items] == [s.id for s in expected(statement, page, per_page)], page
        assert got.total == 23


@pytest.mark.usefixtures("schools")
@pytest.mark.parametrize("order", ORDERS)
def test_every_page_of_a_list_of_columns_matches_limit_and_offset(order):
    statement = select(School.urn).where(School.urn >= "900000").order_by(*ORDERS[order])
    for page in range(1, 7):
        assert page_of(statement, page, 5).items == expected(statement, page, 5), page


@pytest.mark.usefixtures("schools")
def test_a_capped_count_says_more_and_still_pages_forwards():
    statement = select(School).where(School.urn >= "900000").order_by(School.name, School.id)
    got = page_of(statement, 2, 5, count_up_to=10)
    assert got.total == 11
    assert [s.id for s in got.items] == [s.id for s in expected(statement, 2, 5)]


def test_an_empty_list_has_no_pages(app):
    got = page_of(select(School).where(School.urn == "nope").order_by(School.id), 1, 20)
    assert (got.items, got.total, got.pages) == ([], 0, 0)


def test_a_late_page_reads_from_the_far_end(app, schools, count_queries):
    """The last page's ids come from a scan in the reverse order, with no OFFSET to skip."""
    statement = select(School).where(School.urn >= "900000").order_by(School.id)
    with count_queries() as statements:
        page_of(statement, 5, 5)
    ids = [s for s in statements if "LIMIT" in s.upper()]
    assert ids and "DESC" in ids[0].upper()
