"""The blank IDB as an Access file: ``manage.py idb_template``, the /templates/ download, three readers."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from polars.testing import assert_frame_equal

from reporting import templates_blank
from tests.validation.test_formats_identical import context
from validation.api import validate_file
from validation.dataset import DATASET
from validation.jet4.idb import idb_table_defs

from .readers import (
    needs_access_parser,
    needs_mdbtools,
    needs_node,
    read_access_parser,
    read_mdb_reader,
    read_mdbtools,
)

MDBTOOLS_TYPE = {"TEXT": "Text", "LONG": "Long Integer", "DOUBLE": "Double", "DATETIME": "DateTime"}


def _expected(profile: str, with_ea: bool) -> dict[str, list[str]]:
    profile_def = DATASET.profiles[profile]
    names = set(profile_def.required_tables) | (set(profile_def.optional_tables) if with_ea else set())
    return {name: list(t.column_names) for name, t in DATASET.tables.items() if name in names}


@pytest.fixture(scope="module", params=[("P15STD", False), ("P15LTC", True)])
def template(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    profile, with_ea = request.param
    path = tmp_path_factory.mktemp("tpl") / f"{profile}.mdb"
    call_command("idb_template", str(path), "--profile", profile, *(["--with-ea"] if with_ea else []))
    return profile, with_ea, path


@needs_mdbtools
def test_mdbtools_sees_every_table_column_and_type(template) -> None:  # type: ignore[no-untyped-def]
    profile, with_ea, path = template
    res = read_mdbtools(path)
    expected = _expected(profile, with_ea)
    assert list(res) == list(expected)
    for t in idb_table_defs(profile, with_ea=with_ea):
        assert res[t.name]["columns"] == expected[t.name]
        assert res[t.name]["types"] == [MDBTOOLS_TYPE[c.type.name] for c in t.columns]
        assert res[t.name]["rows"] == []


@needs_access_parser
def test_access_parser_sees_every_table(template) -> None:  # type: ignore[no-untyped-def]
    profile, with_ea, path = template
    res = read_access_parser(path)
    expected = _expected(profile, with_ea)
    assert set(res) == set(expected)
    for name, cols in expected.items():
        assert sorted(res[name]["columns"]) == sorted(cols)


@needs_node
def test_mdb_reader_sees_every_table_column_and_type(template) -> None:  # type: ignore[no-untyped-def]
    profile, with_ea, path = template
    res = read_mdb_reader(path)
    expected = _expected(profile, with_ea)
    assert list(res) == list(expected)
    kinds = {"TEXT": "text", "LONG": "long", "DOUBLE": "double", "DATETIME": "datetime"}
    for t in idb_table_defs(profile, with_ea=with_ea):
        assert res[t.name]["columns"] == expected[t.name]
        assert res[t.name]["types"] == [kinds[c.type.name] for c in t.columns]
        assert res[t.name]["rows"] == []


@needs_mdbtools
def test_blank_mdb_and_blank_xlsx_give_the_same_findings(template, tmp_path) -> None:  # type: ignore[no-untyped-def]
    profile, with_ea, path = template
    xlsx = tmp_path / "blank.xlsx"
    xlsx.write_bytes(templates_blank.template_bytes(profile, "xlsx", with_ea=with_ea))
    from_mdb = validate_file(path, ctx=context())
    from_xlsx = validate_file(xlsx, ctx=context())
    assert "FILE014" not in from_mdb.findings_by_rule  # every Access type is one spec 4.2 allows
    assert from_mdb.findings_by_rule == from_xlsx.findings_by_rule
    assert_frame_equal(from_mdb.findings, from_xlsx.findings)


@pytest.mark.django_db
def test_template_page_offers_the_mdb(admin_client) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get(reverse("template-index")).content.decode()
    assert reverse("template-download-mdb", kwargs={"profile": "P15LTC"}) in page
    response = admin_client.get(reverse("template-download-mdb", kwargs={"profile": "P15LTC"}) + "?with_ea=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-msaccess"
    assert 'filename="IAPT_v1.5_P15LTC_EA_template.mdb"' in response["Content-Disposition"]
    assert response.content[4:19] == b"Standard Jet DB"
    assert admin_client.get("/templates/NOPE.mdb").status_code == 404
