"""Unit names as plans write them, resolved through the directory's aliases and groups."""

from __future__ import annotations

import pytest

from definitions.resolve import UnitResolver
from definitions.units import UnitDirectory


@pytest.fixture(scope="module")
def resolver(directory: UnitDirectory) -> UnitResolver:
    return UnitResolver(directory)


@pytest.mark.parametrize(
    ("cell", "refs"),
    [
        ("Văn phòng", ["van-phong"]),
        ("Phòng Tổ chức - Pháp chế", ["phong-to-chuc-phap-che"]),
        ("Phòng Tổ chức – Pháp chế", ["phong-to-chuc-phap-che"]),  # en dash
        ("PHÒNG TỔ CHỨC — PHÁP CHẾ", ["phong-to-chuc-phap-che"]),  # em dash, capitals
        ("Phòng Kế hoạch – Tài chính", ["phong-ke-hoach-tai-chinh"]),
        ("Thanh tra Sở; các phòng quản lý", ["thanh-tra", "phong-quan-ly"]),
        ("Phòng VH và TT; đơn vị trực thuộc", ["vhtt-cap-huyen", "don-vi-truc-thuoc"]),
        ("Các phòng, ban và đơn vị; Sở TTTT", ["phong-chuyen-mon", "don-vi-truc-thuoc", "so-tttt"]),
        ("Chuyên viên IT và Sở TTTT", ["chuyen-vien-it", "so-tttt"]),
        ("Văn phòng Sở và các phòng quản lý", ["van-phong", "phong-quan-ly"]),
        (
            "Các phòng quản lý, IT, kiểm soát TTHC",
            ["phong-quan-ly", "chuyen-vien-it", "dau-moi-tthc"],
        ),
        ("Phòng quản lý chuyên môn có TTHC", ["phong-co-tthc"]),
        ("Sở Nội vụ", ["so-noi-vu"]),
        ("", []),
    ],
)
def test_names_resolve(resolver: UnitResolver, cell: str, refs: list[str]) -> None:
    resolution = resolver.resolve(cell, field="x")
    assert resolution.refs == refs
    assert resolution.findings == []


def test_a_name_the_directory_does_not_know_is_kept_and_warned(resolver: UnitResolver) -> None:
    resolution = resolver.resolve("Văn phòng, Phòng Quản lý Gia đình", field="đơn vị phối hợp")
    assert resolution.refs == ["van-phong", "Phòng Quản lý Gia đình"]
    assert [f.code for f in resolution.findings] == ["unresolved-unit"]
    assert "Phòng Quản lý Gia đình" in resolution.findings[0].message


def test_citizens_are_not_a_unit(resolver: UnitResolver) -> None:
    resolution = resolver.resolve("Tổ chức, công dân", field="đơn vị phối hợp")
    assert resolution.refs == ["Tổ chức, công dân"]
    assert [f.code for f in resolution.findings] == ["not-a-unit"]


def test_a_unit_named_twice_is_kept_once_and_warned(resolver: UnitResolver) -> None:
    resolution = resolver.resolve(
        "Văn phòng Các phòng giải quyết TTHC, Văn phòng", field="đơn vị chủ trì"
    )
    assert resolution.refs == ["van-phong", "phong-co-tthc"]
    assert [f.code for f in resolution.findings] == ["duplicate-unit"]


def test_groups_expand_to_units(directory: UnitDirectory) -> None:
    assert len(directory.expand("vhtt-cap-huyen")) == 9
    everyone = directory.expand("toan-so")
    assert "van-phong" in everyone and "thu-vien" in everyone
    assert len(everyone) == len(set(everyone))
