from linli.logins import views

app_name = "logins"

urlpatterns = views.urlpatterns
