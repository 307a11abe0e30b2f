"""The forms of a page as a browser sees them: each ``<form method="post">`` with its action
and the names and first values of its fields, read from the HTML. A named submit button is
sent as the browser sends the first one (``action=tuning``), with the page's hidden fields."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    fields: dict = field(default_factory=dict)  # name → a value a browser would send
    choices: dict = field(default_factory=dict)  # name → the values offered (select, radio, checkbox)
    hidden: set = field(default_factory=set)  # the names of hidden fields (what the page chose: op, number …)

    def __str__(self):
        return f"POST {self.action}"


class _Reader(HTMLParser):
    def __init__(self, url):
        super().__init__()
        self.url, self.forms, self.form, self.select, self.textarea = url, [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self.form = Form(action=a.get("action") or self.url)
                self.forms.append(self.form)
            return
        if self.form is None or not a.get("name"):
            if tag == "option" and self.select is not None and self.form is not None:
                self.form.choices.setdefault(self.select, []).append(a.get("value", ""))
                self.form.fields.setdefault(self.select, a.get("value", ""))
            return
        name = a["name"]
        if tag == "button" and (a.get("type") or "submit").lower() == "submit":
            self.form.hidden.add(name)
            self.form.choices.setdefault(name, []).append(a.get("value", ""))
            self.form.fields.setdefault(name, a.get("value", ""))
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind == "submit":
                self.form.hidden.add(name)
                self.form.fields.setdefault(name, a.get("value", ""))
                return
            if kind in ("button", "image", "reset", "file"):
                return
            if kind == "hidden":
                self.form.hidden.add(name)
            if kind in ("radio", "checkbox"):
                self.form.choices.setdefault(name, []).append(a.get("value", "on"))
                if kind == "radio" or "checked" in a:
                    self.form.fields.setdefault(name, a.get("value", "on"))
                return
            self.form.fields.setdefault(name, a.get("value", ""))
        elif tag == "textarea":
            self.form.fields.setdefault(name, "")
        elif tag == "select":
            self.select = name
            self.form.choices.setdefault(name, [])

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None


def post_forms(html, url):
    reader = _Reader(url)
    reader.feed(html)
    return reader.forms
