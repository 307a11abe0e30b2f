"""The knowledge base in the admin: read only. Articles are kept on the knowledge base's own
pages, where every save writes its version; the admin must not be a way around that."""

from django.contrib import admin

from jiedao.common.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Article, ArticleUse, ArticleVersion


class VersionInline(ReadOnlyInline):
    model = ArticleVersion
    fields = ("number", "changed_at", "changed_by", "question", "category", "source", "valid_until", "active")
    ordering = ("-number",)


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ("question", "category", "source", "valid_until", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("question", "answer", "source")
    list_select_related = ("category",)
    inlines = [VersionInline]


@admin.register(ArticleVersion)
class ArticleVersionAdmin(ReadOnlyAdmin):
    list_display = ("article", "number", "changed_at", "changed_by")
    list_select_related = ("article", "changed_by")


@admin.register(ArticleUse)
class ArticleUseAdmin(ReadOnlyAdmin):
    list_display = ("article", "case", "user", "at")
    list_select_related = ("article", "case", "user")
    date_hierarchy = "at"
