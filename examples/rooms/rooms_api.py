"""A small rooms-booking API behind authgate: every `/api/` request needs a token authgate
issued (`Token <key>`, `Bearer <key>` or `Bearer <JWT>`), checked by authgate's ASGI guard.

    GET  /health        no token needed: {"status": "ok"}
    GET  /api/rooms/    the rooms and their bookings
    POST /api/rooms/    {"room": <id>, "date": "YYYY-MM-DD"}: book a room for a day
                        (201; 400 a bad body, 404 no such room, 409 already booked)

Bookings live in memory: this is an example of the guard, not of a database.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authgate.client import AuthgateMiddleware, Guard, Identity, identity_of


@dataclass(frozen=True)
class Room:
    """A bookable room."""

    id: int
    name: str
    capacity: int


ROOMS = (Room(1, "Aurora", 4), Room(2, "Borealis", 8), Room(3, "Cirrus", 12))


@dataclass
class Booking:
    """One room booked for one day by one user."""

    id: int
    room: int
    day: date
    user_id: str
    username: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room": self.room,
            "date": self.day.isoformat(),
            "booked_by": {"id": self.user_id, "username": self.username},
        }


@dataclass
class Ledger:
    """Every booking, in memory; (room, day) is booked at most once."""

    bookings: dict[tuple[int, date], Booking] = field(default_factory=dict)

    def book(self, room: int, day: date, identity: Identity) -> Booking | None:
        """The new booking, or None when the room is taken that day."""
        if (room, day) in self.bookings:
            return None
        booking = Booking(len(self.bookings) + 1, room, day, identity.user_id, identity.username)
        self.bookings[(room, day)] = booking
        return booking

    def of_room(self, room: int) -> list[dict[str, Any]]:
        found = (b for (r, _), b in sorted(self.bookings.items()) if r == room)
        return [b.as_json() for b in found]


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _read_booking(body: object) -> tuple[int, date] | str:
    """(room, day) from a booking request, or what is wrong with it."""
    if not isinstance(body, dict):
        return "expected a JSON object"
    room, day = body.get("room"), body.get("date")
    if not isinstance(room, int) or isinstance(room, bool):
        return "room: expected a room id"
    try:
        return room, date.fromisoformat(str(day))
    except ValueError:
        return "date: expected YYYY-MM-DD"


def create_app(guard: Guard) -> Starlette:
    """The rooms API, guarded by `guard` on `/api/`."""
    ledger = Ledger()

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def list_rooms(_: Request) -> JSONResponse:
        rooms = [
            {"id": r.id, "name": r.name, "capacity": r.capacity, "bookings": ledger.of_room(r.id)}
            for r in ROOMS
        ]
        return JSONResponse({"rooms": rooms})

    async def book_room(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "expected a JSON body")
        wanted = _read_booking(body)
        if isinstance(wanted, str):
            return _error(400, wanted)
        room, day = wanted
        if room not in {r.id for r in ROOMS}:
            return _error(404, "no such room")
        booking = ledger.book(room, day, identity_of(request.scope))
        if booking is None:
            return _error(409, "the room is already booked that day")
        return JSONResponse(booking.as_json(), status_code=201)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await guard.aclose()

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/api/rooms/", list_rooms, methods=["GET"]),
            Route("/api/rooms/", book_room, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(AuthgateMiddleware, guard=guard, prefixes=("/api/",))
    return app
