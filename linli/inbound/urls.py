from django.urls import path

from linli.inbound import views

app_name = "inbound"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("<int:message_id>/", views.message_detail, name="detail"),
    path("sms/", views.sms_webhook, name="sms_webhook"),
    path("wechat/", views.wechat_push, name="wechat_push"),
]
