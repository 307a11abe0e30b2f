"""What every app's forms share: a service's errors come back onto the form (on the field they
name, else above the form) with the typed input kept, and empty coordinates reach the
service as None."""

from django import forms

from jiedao.common.errors import InvalidTransition, ValidationFailed
from jiedao.common.forms import LocationMixin, apply_errors


class ReportForm(LocationMixin):
    description = forms.CharField(required=False)


def test_a_field_error_of_the_service_lands_on_its_field_and_keeps_the_input():
    form = ReportForm({"description": "路灯不亮", "lat": "91", "lng": "116.4"})
    assert form.is_valid()
    error = ValidationFailed("lat", "纬度应在 -90 到 90 之间。")
    apply_errors(form, error)
    assert form.errors == {"lat": ["纬度应在 -90 到 90 之间。"]}
    assert form["lat"].value() == "91" and form["description"].value() == "路灯不亮"


def test_an_error_about_no_field_of_the_form_is_shown_above_it():
    form = ReportForm({"description": "路灯不亮"})
    assert form.is_valid()
    apply_errors(form, ValidationFailed("category", "分类已停用。"))
    assert form.non_field_errors() == ["分类已停用。"]
    form = ReportForm({"description": "路灯不亮"})
    assert form.is_valid()
    apply_errors(form, InvalidTransition("工单已办结，不能再修改。"))
    assert form.non_field_errors() == ["工单已办结，不能再修改。"]


def test_empty_coordinates_reach_the_service_as_none():
    form = ReportForm({"description": "路灯不亮", "lat": " ", "lng": "", "address": "东湖小区3号楼"})
    assert form.is_valid()
    assert form.location_kwargs() == {"lat": None, "lng": None, "address": "东湖小区3号楼"}
    form = ReportForm({"lat": "39.905", "lng": "116.405"})
    assert form.is_valid()
    assert form.location_kwargs() == {"lat": "39.905", "lng": "116.405", "address": ""}
