from linli.grids.views import registry, transfer

app_name = "grids"

urlpatterns = registry.urlpatterns + transfer.urlpatterns
