"""The reply-template picker of the admin's forms that send text to a citizen.

A form names its text field and the purposes it serves; the picker offers the templates that
fit the report (reports.selectors.reply_templates_for: its category and agency, the most
specific first, in the staff member's language), each filled for the report. Picking one
puts its text in the field (reports/static/reports/reply_templates.js), where staff edit it
before sending. Without scripts, each template is a link that opens the form again with the
text filled in (`?template=<id>`).

    class ResolveForm(ReplyTemplatePicker, ReportActionForm):
        reply_field = "note"
        reply_purposes = (ReplyPurpose.RESOLUTION,)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from hues.languages import active_language
from hues.replies import placeholders_left
from reports.models import ReplyPurpose, ReplyTemplate, Report
from reports.replies import reply_template_render
from reports.selectors import reply_templates_for

# The query parameter that opens a form with a template's text filled in.
TEMPLATE_PARAMETER = "template"


class ReplyTemplateSelect(forms.Select):
    """A select whose options carry their filled text (data-text) and whether they ask the
    citizen a question (data-question); hidden until the script shows it, with links for
    browsers that run no script."""

    template_name = "reports/widgets/reply_template_select.html"

    class Media:
        js = ["reports/reply_templates.js"]

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"hidden": True, "class": "reply-template-picker", **(attrs or {})})
        self.texts: dict[str, tuple[str, bool]] = {}

    def connect(self, *, target: str, question: str | None) -> None:
        """Name the text field the picker fills (its id), and the question checkbox's."""
        self.attrs["data-target"] = target
        if question:
            self.attrs["data-question"] = question
        self.attrs["data-confirm"] = _("Replace the text you have written with this template?")

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        filled = self.texts.get(str(option["value"]))
        if filled is not None:
            option["attrs"]["data-text"] = filled[0]
            if filled[1]:
                option["attrs"]["data-question"] = "true"
        return option

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            parameter=TEMPLATE_PARAMETER,
            links=[(value, label) for value, label in _flat(self.choices) if value],
        )
        return context


def _flat(choices: Any) -> Iterator[tuple[Any, Any]]:
    for value, label in choices:
        if isinstance(label, list | tuple):
            yield from label
        else:
            yield value, label


class ReplyTemplateField(forms.ChoiceField):
    """Only a helper for the text field: whatever is posted here is neither checked nor
    used."""

    widget = ReplyTemplateSelect

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            label=_("Reply template"),
            help_text=_("Fills the text below for this report; edit it before sending."),
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        return ""


class ReplyTemplatePicker(forms.Form):
    """A form that sends text to a citizen, with a picker of reply templates (first among
    its fields). Subclasses name `reply_field` (the text) and `reply_purposes`; where a
    checkbox says the text is a question to the citizen, `question_field` names it and a
    question template ticks it. Needs the report (ReportActionForm keeps it); the link that
    opens the form with a template comes as the form's initial data (the admin's act view
    passes the page's query string)."""

    reply_field: ClassVar[str] = "message"
    reply_purposes: ClassVar[tuple[str, ...]] = ()
    question_field: ClassVar[str | None] = None

    report: Report

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        templates = reply_templates_for(
            report=self.report, purposes=self.reply_purposes, language=active_language()
        )
        if not templates:
            return
        texts = {
            str(template.pk): (
                reply_template_render(template=template, report=self.report),
                template.purpose == ReplyPurpose.QUESTION,
            )
            for template in templates
        }
        widget = ReplyTemplateSelect()
        widget.texts = texts
        widget.connect(
            target=self[self.reply_field].auto_id,
            question=self[self.question_field].auto_id if self.question_field else None,
        )
        self.fields["reply_template"] = ReplyTemplateField(
            choices=self._choices(templates), widget=widget
        )
        self.order_fields(["reply_template"])
        # A filled template runs to a few hundred characters: room to read it whole.
        self.fields[self.reply_field].widget.attrs.update(rows=6, cols=80)
        chosen = self.initial.pop(TEMPLATE_PARAMETER, None)
        if not self.is_bound and chosen in texts:
            self.initial["reply_template"] = chosen
            self.initial[self.reply_field] = texts[chosen][0]
            if self.question_field:
                self.initial[self.question_field] = texts[chosen][1]

    def _choices(self, templates: list[ReplyTemplate]) -> list[tuple[Any, Any]]:
        """The templates by purpose when the form serves several, each group most specific
        first (as the selector orders them)."""
        blank: list[tuple[Any, Any]] = [("", "---------")]
        if len(self.reply_purposes) == 1:
            return blank + [(str(t.pk), t.name) for t in templates]
        groups = [
            (
                ReplyPurpose(purpose).label,
                [(str(t.pk), t.name) for t in templates if t.purpose == purpose],
            )
            for purpose in self.reply_purposes
        ]
        return blank + [group for group in groups if group[1]]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        text = (cleaned or {}).get(self.reply_field)
        left = placeholders_left(text) if isinstance(text, str) else []
        if left:
            self.add_error(
                self.reply_field,
                _("Write in %(placeholders)s: this report has no value for it yet.")
                % {"placeholders": ", ".join(f"{{{name}}}" for name in left)},
            )
        return cleaned
