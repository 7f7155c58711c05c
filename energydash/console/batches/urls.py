from __future__ import annotations

from django.urls import path

from energydash.console.batches import views

app_name = "batches"

urlpatterns = [
    path("", views.batch_list, name="list"),
    path("new/", views.batch_new, name="new"),
    path("<uuid:code>/", views.batch_detail, name="detail"),
    path("<uuid:code>/progress/", views.batch_progress, name="progress"),
    path("<uuid:code>/start/", views.batch_start, name="start"),
    path("<uuid:code>/cancel/", views.batch_cancel, name="cancel"),
    path("<uuid:code>/approval/", views.batch_approval, name="approval"),
    path("<uuid:code>/results.csv", views.batch_results, name="results"),
]
