from django.urls import path

from linli.wechat import views

app_name = "wechat"

urlpatterns = [
    path("login/", views.login_start, name="login"),
    path("callback/", views.callback, name="callback"),
    path("bind/", views.bind, name="bind"),
    path("account/", views.account, name="account"),
    path("account/bind/", views.bind_start, name="bind_start"),
    path("account/unbind/", views.unbind, name="unbind"),
]
