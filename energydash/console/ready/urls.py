from __future__ import annotations

from django.urls import path

from energydash.console.ready import views

app_name = "ready"

urlpatterns = [
    path("", views.ready_new, name="new"),
    path("<int:pk>/", views.ready_detail, name="detail"),
]
