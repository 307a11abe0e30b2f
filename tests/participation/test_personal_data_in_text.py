"""Proposals are public: a phone or identity number a resident types into the title, the body
or the place is kept as written but shown masked on every page and in the API, to anyone."""

from django.test import Client
from django.urls import reverse

from jiedao.participation import selectors, services

TITLE = "东门加装休息座椅 电话13812345678"
BODY = "老人没地方歇脚，详情请联系 138 0013 8000（王），或 +86 139-0013-9000"
PLACE = "东湖小区东门，身份证110101199003078910的那位老人家门口"


def propose(people):
    return services.propose(people.wang, title=TITLE, body=BODY, place=PLACE)


def test_a_proposal_page_masks_the_numbers_typed_into_it_for_every_reader(people, street):
    proposal = propose(people)
    assert (proposal.title, proposal.body, proposal.place) == (TITLE, BODY, PLACE)  # nothing is lost
    readers = [Client()]
    for user in (people.neighbours[0], street.users.admin):
        client = Client()
        client.force_login(user)
        readers.append(client)
    for client in readers:
        page = client.get(reverse("participation:proposal", args=[proposal.pk])).content.decode()
        for typed in ("13812345678", "138 0013 8000", "139-0013-9000", "110101199003078910"):
            assert typed not in page
        for masked in ("138****5678", "138****8000", "139****9000", "110***********8910"):
            assert masked in page


def test_the_public_api_masks_them_too(people):
    proposal = propose(people)
    item = Client().get(f"/api/v1/participation/proposals/{proposal.pk}").json()
    assert item["title"] == "东门加装休息座椅 电话138****5678"
    assert item["body"] == "老人没地方歇脚，详情请联系 138****8000（王），或 139****9000"
    assert item["place"] == "东湖小区东门，身份证110***********8910的那位老人家门口"
    listed = Client().get("/api/v1/participation/proposals").json()
    assert [p["title"] for p in listed if p["id"] == proposal.pk] == [item["title"]]


def test_a_note_with_a_phone_is_masked_in_the_proposals_timeline(people):
    proposal = propose(people)
    services.withdraw(people.wang, proposal_id=proposal.pk, reason="已私下解决，有事打 13812345678")
    notes = [step["note"] for step in selectors.timeline(proposal)]
    assert "已私下解决，有事打 138****5678" in notes
    assert not any("13812345678" in note for note in notes)


def test_similar_proposals_do_not_confirm_the_hidden_digits_of_a_phone(people):
    """The "similar proposals" hint compares character pairs: it must compare the text as
    shown, or typing a guess of the middle digits would tell whether it is right."""
    proposal = services.propose(people.wang, title="东门座椅", body="需要帮忙请联系13812345678")
    similar = lambda text: [p.pk for p in selectors.similar_proposals(people.dong, text)]
    assert similar("12345") == similar("99999") == []
    assert similar("东门座椅") == [proposal.pk]
