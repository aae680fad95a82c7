"""Import and export pages: thin wrappers over `linli.grids.importing` and `.exporting`.

The import page answers 404 to anyone without the import permission somewhere; the export
of the resident list answers 404 without the export permission; a resident's own export
answers 404 to anyone without a household of their own.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from linli.accounts.roles import Permission
from linli.accounts.services import client_address
from linli.grids import exporting, importing
from linli.grids.selectors import grid_unit_get, user_can


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
        if importing.file_kind(upload.name) is None:
            raise ValidationError(_("Upload a .xlsx or a .csv file."))
        return upload


def _needs(request, permission: str) -> None:
    if not user_can(user=request.user, permission=permission):
        raise Http404


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def import_page(request):
    _needs(request, Permission.IMPORT_REGISTRY)
    report = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            report = importing.registry_import(
                actor=request.user,
                source=upload.file,
                filename=upload.name,
                dry_run=form.cleaned_data["dry_run"],
            )
    else:
        form = ImportForm()
    return render(
        request,
        "grids/import.html",
        {"form": form, "report": report, "columns": importing.COLUMNS},
    )


@login_required
def import_template_xlsx(request):
    _needs(request, Permission.IMPORT_REGISTRY)
    return _download(
        importing.import_template_xlsx(),
        "linli-import-template.xlsx",
        exporting.ExportFile.content_type,
    )


@login_required
def import_template_csv(request):
    _needs(request, Permission.IMPORT_REGISTRY)
    return _download(
        importing.import_template_csv(), "linli-import-template.csv", "text/csv; charset=utf-8"
    )


@login_required
def residents_export(request):
    _needs(request, Permission.EXPORT_REGISTRY)
    grid_unit = None
    if request.GET.get("grid"):
        grid_unit = grid_unit_get(user=request.user, grid_unit_id=request.GET["grid"])
        if not user_can(
            user=request.user, permission=Permission.EXPORT_REGISTRY, grid_path=grid_unit.path
        ):
            raise Http404
    export = exporting.residents_export(
        user=request.user,
        query=request.GET.get("q", ""),
        grid_unit=grid_unit,
        tag=request.GET.get("tag", ""),
        ip_address=client_address(request),
    )
    return _download(export.content, export.filename, export.content_type)


@login_required
def own_household_export(request):
    try:
        export = exporting.own_household_export(
            user=request.user, ip_address=client_address(request)
        )
    except ValidationError:
        raise Http404 from None
    return _download(export.content, export.filename, export.content_type)


urlpatterns = [
    path("import/", import_page, name="import"),
    path("import/template.xlsx", import_template_xlsx, name="import_template_xlsx"),
    path("import/template.csv", import_template_csv, name="import_template_csv"),
    path("residents/export.xlsx", residents_export, name="residents_export"),
    path("me/export.xlsx", own_household_export, name="me_export"),
]
