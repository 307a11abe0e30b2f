"""The admin shows 多元共治 for reference; the ledger, events and ballots are read-only
(changes go through the pages and services, which keep the books balanced)."""

from django.contrib import admin

from .models import (
    Account,
    CouncilMember,
    Meeting,
    Membership,
    PointRule,
    Posting,
    Project,
    Proposal,
    Reward,
    Volunteer,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "community", "party_member", "joined_at")
    list_filter = ("community", "party_member")
    raw_id_fields = ("user", "person")


@admin.register(Proposal)
class ProposalAdmin(ReadOnly):
    list_display = ("title", "community", "status", "support_count", "created_at", "decided_at")
    list_filter = ("community", "status", "origin")
    search_fields = ("title",)


@admin.register(Meeting)
class MeetingAdmin(ReadOnly):
    list_display = ("title", "community", "starts_at", "status")
    list_filter = ("community", "status")


@admin.register(CouncilMember)
class CouncilMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "origin", "start", "end")
    list_filter = ("community", "origin")


@admin.register(Project)
class ProjectAdmin(ReadOnly):
    list_display = ("title", "community", "cost", "status", "votes", "served")
    list_filter = ("community", "status")


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "kind", "organisation")
    list_filter = ("community", "kind")
    raw_id_fields = ("user",)


@admin.register(PointRule)
class PointRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "points")


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "cost", "stock")
    list_filter = ("community",)


@admin.register(Account)
class AccountAdmin(ReadOnly):
    list_display = ("community", "kind", "user", "balance")
    list_filter = ("community", "kind")


@admin.register(Posting)
class PostingAdmin(ReadOnly):
    list_display = ("at", "community", "kind", "reason")
    list_filter = ("community", "kind")
