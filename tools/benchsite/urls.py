from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class UserByIdView(APIView):
    """One indexed SELECT (a primary-key lookup) and a small JSON body."""

    def get(self, request: Request, pk: int) -> Response:
        user = User.objects.filter(pk=pk).values("id", "username", "date_joined").first()
        return Response(user, status=200 if user else 404)


urlpatterns = [path("users/<int:pk>", UserByIdView.as_view())]
