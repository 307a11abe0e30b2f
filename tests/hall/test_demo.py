import datetime as dt

from django.utils import timezone

from jiedao.hall import selectors
from jiedao.hall.demo import build_hall
from jiedao.hall.models import Application, ApplicationEvent, Material, ServiceItem, Status
from tests.factories import make_user


def test_demo_hall_has_a_full_catalogue_and_applications_with_events(street):
    units = {u.code: u for u in vars(street.units).values()}
    users = {
        "operator": street.users.operator,
        "leader": street.users.leader,
        "resident": street.users.resident,
        "handler_ggfw": make_user("handler_ggfw", "handler", unit=street.units.service),
    }
    now = timezone.now()
    counts = build_hall(street.street, units, users, now, days=40)
    assert ServiceItem.objects.count() >= 60
    assert not ServiceItem.objects.filter(materials__isnull=True).exists()
    assert Material.objects.filter(core=False).exists() and Material.objects.filter(shared=True).exists()
    assert counts["applications"] > 20
    # Every application's current state is where its events lead.
    for app in Application.objects.all():
        last = ApplicationEvent.objects.filter(application=app).exclude(to_status="").order_by("at", "id").last()
        assert last.to_status == app.status
    m = selectors.measures(now - dt.timedelta(days=40), now)
    assert m["issued"] == Application.objects.filter(status=Status.ISSUED, parent__isnull=True).count()
    assert m["wait_avg"] is not None
