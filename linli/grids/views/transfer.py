"""Import and export pages: thin wrappers over `linli.grids.importing` and `.exporting`.

The import page answers 404 to anyone without the import permission somewhere; the export
of the resident list answers 404 without the export permission. A resident downloads their
own data, everything held about their household, at /privacy/my-data/ (linli.privacy).

An upload is checked against the import limits (linli.grids.importing.limits) before anything
parses it; a file of more than LINLI_IMPORT_BACKGROUND_ROWS rows is imported by the worker
and followed on its run page. Exports are POSTs with the CSRF token: a GET of an export
address shows the page with the button, so a link from another site downloads nothing.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from linli.accounts.roles import Permission
from linli.accounts.services import client_address
from linli.grids import exporting, importing
from linli.grids.importing import runs as import_runs
from linli.grids.importing.limits import Limits, UploadRefused, upload_inspect
from linli.grids.selectors import grid_unit_get, needs_registry, user_can


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Check only: report problems and counts, write nothing"), required=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        kind = importing.file_kind(upload.name)
        if kind is None:
            raise ValidationError(_("Upload a .xlsx or a .csv file."))
        try:
            self.sheet_rows = upload_inspect(
                upload.file, kind, Limits.from_settings(), size=upload.size
            )
        except UploadRefused as refusal:
            raise ValidationError(refusal.message, code=refusal.code) from None
        return upload


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def import_page(request):
    needs_registry(user=request.user, permission=Permission.IMPORT_REGISTRY)
    report = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data_rows = max(form.sheet_rows - 1, 0)
            if data_rows > settings.LINLI_IMPORT_BACKGROUND_ROWS:
                run = import_runs.import_run_start(
                    actor=request.user,
                    upload=upload.file,
                    filename=upload.name,
                    dry_run=form.cleaned_data["dry_run"],
                    rows_expected=data_rows,
                    ip_address=client_address(request),
                )
                return redirect("grids:import_run", run_id=run.pk)
            report = importing.registry_import(
                actor=request.user,
                source=upload.file,
                filename=upload.name,
                dry_run=form.cleaned_data["dry_run"],
                limits=Limits.from_settings(),
                ip_address=client_address(request),
            )
    else:
        form = ImportForm()
    return render(
        request,
        "grids/import.html",
        {"form": form, "report": report, "columns": importing.COLUMNS},
    )


@never_cache
@login_required
def import_run(request, run_id: int):
    """One background import: its progress (the page polls every 2 s with htmx while it
    runs), then its report. Only the person who started it sees it."""
    needs_registry(user=request.user, permission=Permission.IMPORT_REGISTRY)
    run = import_runs.import_run_get(user=request.user, run_id=run_id)
    context = {
        "run": run,
        "rows_read": import_runs.import_run_progress(run),
        "errors": import_runs.report_errors(run),
    }
    if request.headers.get("HX-Request"):
        return render(request, "grids/_import_run_status.html", context)
    return render(request, "grids/import_run.html", context)


@login_required
def import_template_xlsx(request):
    needs_registry(user=request.user, permission=Permission.IMPORT_REGISTRY)
    return _download(
        importing.import_template_xlsx(),
        "linli-import-template.xlsx",
        exporting.ExportFile.content_type,
    )


@login_required
def import_template_csv(request):
    needs_registry(user=request.user, permission=Permission.IMPORT_REGISTRY)
    return _download(
        importing.import_template_csv(), "linli-import-template.csv", "text/csv; charset=utf-8"
    )


def _confirm(request, *, title: str, fields: dict[str, str]) -> HttpResponse:
    """The page an export's address shows to a GET: what will be exported and the button
    that POSTs it (with the CSRF token)."""
    return render(
        request,
        "grids/export_confirm.html",
        {"title": title, "fields": {key: value for key, value in fields.items() if value}},
    )


@never_cache
@login_required
def residents_export(request):
    needs_registry(user=request.user, permission=Permission.EXPORT_REGISTRY)
    params = request.POST if request.method == "POST" else request.GET
    grid_unit = None
    if params.get("grid"):
        grid_unit = grid_unit_get(user=request.user, grid_unit_id=params["grid"])
        if not user_can(
            user=request.user, permission=Permission.EXPORT_REGISTRY, grid_path=grid_unit.path
        ):
            raise Http404
    if request.method != "POST":
        return _confirm(
            request,
            title=_("Export the resident list"),
            fields={key: params.get(key, "") for key in ("q", "grid", "tag")},
        )
    export = exporting.residents_export(
        user=request.user,
        query=params.get("q", ""),
        grid_unit=grid_unit,
        tag=params.get("tag", ""),
        ip_address=client_address(request),
    )
    return _download(export.content, export.filename, export.content_type)


urlpatterns = [
    path("import/", import_page, name="import"),
    path("import/runs/<int:run_id>/", import_run, name="import_run"),
    path("import/template.xlsx", import_template_xlsx, name="import_template_xlsx"),
    path("import/template.csv", import_template_csv, name="import_template_csv"),
    path("residents/export.xlsx", residents_export, name="residents_export"),
]
