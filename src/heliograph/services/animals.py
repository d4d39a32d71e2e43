"""Animal names for unnamed users (the app setting useAnimalNames): stable, derived from the user's id."""

from __future__ import annotations

import hashlib

ADJECTIVES = ("Amber", "Azure", "Brave", "Bright", "Calm", "Clever", "Coral", "Crimson", "Curious", "Daring",
              "Gentle", "Golden", "Happy", "Indigo", "Jolly", "Lively", "Lucky", "Merry", "Misty", "Noble",
              "Olive", "Purple", "Quiet", "Rapid", "Ruby", "Silver", "Sunny", "Swift", "Teal", "Violet",
              "Witty", "Zesty")
ANIMALS = ("Badger", "Beaver", "Bison", "Crane", "Dolphin", "Falcon", "Ferret", "Fox", "Gazelle", "Heron",
           "Ibis", "Jaguar", "Koala", "Lemur", "Lynx", "Marten", "Moose", "Narwhal", "Ocelot", "Otter",
           "Owl", "Panda", "Pelican", "Puffin", "Quokka", "Raven", "Seal", "Sparrow", "Tapir", "Walrus",
           "Wombat", "Yak")


def animal_name(user_id: str) -> str:
    """The user's animal name ("Purple Otter"): the same for the same id, in every process and release."""
    digest = hashlib.blake2b(user_id.encode(), digest_size=4).digest()
    return f"{ADJECTIVES[digest[0] % len(ADJECTIVES)]} {ANIMALS[digest[1] % len(ANIMALS)]}"
