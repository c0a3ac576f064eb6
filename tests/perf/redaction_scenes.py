"""The labelled evaluation set of photo redaction (issue 15): composed street scenes.

    .venv/bin/python tests/perf/redaction_scenes.py            # rewrite tests/data/redaction/
    .venv/bin/python tests/perf/redaction_scenes.py --out /tmp/tune --first-seed 1000 --count 40

Writes `images/*.jpg` and `manifest.json` (each image's source, licence and labelled boxes)
into tests/data/redaction/ from the pictures in its `sources/` folder (images that open
packages ship, each with its licence in SOURCES below) and two fonts from Debian's packages
(fonts-liberation, fonts-dejavu-extra). Every composed scene is a pure function of its seed:
the same seed gives the same picture and the same labels.

A scene is a street of narrow house fronts with shop signs, house numbers and phone numbers
(text that is not a plate, so that precision means something), a road with cars and
motorbikes carrying Vietnamese plates, and people (head and shoulders cut from the portraits
in `sources/`), at varied sizes, angles, blur and light. Labels are boxes (x, y, width,
height, in the image's pixels) of kind `face` or `plate`; a plate's box is the bounding box
of its warped outline, a face's the bounding box of the rotated ellipse inside its box.

The benchmark (tests/perf/redaction.py) composes its 12-megapixel photo here too.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[2]
SET = ROOT / "tests" / "data" / "redaction"
SOURCES = SET / "sources"
FONTS = (
    Path("/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"),
)
FIRST_SEED = 1
SCENES = 50

SKIMAGE = "scikit-image 0.26 (skimage/data), "
SOURCES_LICENCES = {
    "astronaut": SKIMAGE + "NASA photograph of Eileen Collins: public domain",
    "camera": SKIMAGE + "CC0 by the photographer (Lav Varshney)",
    "chelsea": SKIMAGE + "CC0 by the photographer (Stefan van der Walt)",
    "coffee": SKIMAGE + "CC0 by the photographer (Rachel Michetti)",
    "horse": SKIMAGE + "CC0 by the owner (Andreas Preuss)",
    "text": SKIMAGE + "no known copyright restrictions, public domain",
    "page": SKIMAGE + "scan of a page, scikit-image's BSD-3-Clause data",
    "rocket": SKIMAGE + "SpaceX launch photograph (DSCOVR), released into the public domain",
    "brick": SKIMAGE + "CC0Textures Bricks25: CC0",
    "grass": SKIMAGE + "CC0Textures Grass: CC0",
    "gravel": SKIMAGE + "CC0Textures Gravel04: CC0",
    "china": "scikit-learn 1.x (sklearn/datasets/images): CC BY 2.0, danielbuechele on Flickr",
    "flower": "scikit-learn 1.x (sklearn/datasets/images): CC BY 2.0, vultilion on Flickr",
    "obama": "face_recognition 1.3.0 sdist (tests/test_images), official White House portrait: "
    "public domain (work of the U.S. federal government)",
    "biden": "face_recognition 1.3.0 sdist (tests/test_images), official Vice-Presidential "
    "portrait: public domain (work of the U.S. federal government); scaled to 1,200 px high",
    "obama3": "face_recognition 1.3.0 sdist (tests/test_images), official White House "
    "photograph: public domain (work of the U.S. federal government); scaled to 1,200 px high",
}
# Faces in the source pictures, labelled by hand: (x, y, width, height), brow to chin.
SOURCE_FACES: dict[str, list[tuple[int, int, int, int]]] = {
    "astronaut": [(178, 63, 89, 112)],
    "camera": [(183, 105, 75, 90)],
    "obama": [(373, 95, 232, 319)],
    "biden": [(233, 96, 151, 207)],
    "obama3": [(329, 127, 139, 187)],
}
PORTRAITS = ("astronaut", "camera", "obama", "biden", "obama3")
# The package pictures that enter the set as they are (those with no face are negatives).
AS_IS = (
    "astronaut",
    "camera",
    "obama",
    "biden",
    "obama3",
    "chelsea",
    "coffee",
    "horse",
    "text",
    "page",
    "rocket",
    "china",
    "flower",
)
COMPOSED_LICENCE = (
    "CC0 (composed by tests/perf/redaction_scenes.py from the sources named, under their "
    "licences, and text in Liberation Sans Narrow / DejaVu Sans Condensed)"
)


@dataclass(frozen=True)
class Label:
    kind: str
    x: int
    y: int
    width: int
    height: int
    note: str = ""


@dataclass
class Scene:
    image: np.ndarray  # RGB, uint8
    labels: list[Label] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)


def load(name: str) -> np.ndarray:
    return np.asarray(Image.open(SOURCES / f"{name}.jpg").convert("RGB"))


# --- plates ----------------------------------------------------------------------------

PLATE_MM = {"long": (520, 110), "short": (330, 165), "motorbike": (190, 140)}
# background, text and frame colours: private (white), commercial (yellow), state (blue)
PLATE_COLOURS = {
    "white": ((236, 236, 230), (20, 20, 24)),
    "yellow": ((238, 196, 40), (22, 20, 18)),
    "blue": ((22, 70, 160), (240, 240, 240)),
}
LETTERS = "ABCDEFGHKLMNPSTUVXYZ"


def plate_text(rng: np.random.Generator, shape: str) -> list[str]:
    province = f"{rng.integers(11, 100)}"
    serial = f"{rng.integers(0, 1000):03d}.{rng.integers(0, 100):02d}"
    letter = LETTERS[rng.integers(len(LETTERS))]
    if shape == "long":
        return [f"{province}{letter}-{serial}"]
    if shape == "short":
        return [f"{province}{letter}", serial]
    series = f"{letter}{rng.integers(1, 10)}" if rng.random() < 0.8 else letter * 2
    return [f"{province}-{series}", serial]


def _text_row(text: str, font: ImageFont.FreeTypeFont, height: int, room: int) -> Image.Image:
    """A row of plate characters as a mask: each glyph drawn alone, scaled to the row's
    height and narrowed as plate lettering is, with a gap between glyphs; squeezed when
    the row would be wider than the room."""
    glyphs = []
    for char in text:
        canvas = Image.new("L", (300, 300), 0)
        ImageDraw.Draw(canvas).text((20, 20), char, font=font, fill=255)
        box = canvas.getbbox()
        assert box is not None
        glyph = canvas.crop(box)
        if char in "-.":
            size = (
                max(1, int(height * 0.28)),
                max(1, int(height * (0.1 if char == "-" else 0.12))),
            )
        else:
            size = (max(1, int(glyph.width * height / glyph.height * 0.8)), height)
        glyphs.append((char, glyph.resize(size, Image.Resampling.LANCZOS)))
    gap = int(height * 0.12)
    total = sum(g.width for _, g in glyphs) + gap * (len(glyphs) - 1)
    row = Image.new("L", (total, height), 0)
    x = 0
    for char, glyph in glyphs:
        y = height - glyph.height if char == "." else (height - glyph.height) // 2
        row.paste(glyph, (x, y))
        x += glyph.width + gap
    if total > room:
        row = row.resize((room, height), Image.Resampling.LANCZOS)
    return row


def render_plate(rng: np.random.Generator, shape: str, colour: str) -> tuple[np.ndarray, str]:
    """A plate as RGBA at 3 px/mm: background, frame, and one or two rows of text."""
    width_mm, height_mm = PLATE_MM[shape]
    scale = 3
    width, height = width_mm * scale, height_mm * scale
    background, ink = PLATE_COLOURS[colour]
    plate = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(plate)
    radius = 6 * scale
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius, fill=(*background, 255))
    inset = 2 * scale
    draw.rounded_rectangle(
        (inset, inset, width - 1 - inset, height - 1 - inset),
        radius - inset,
        outline=(*ink, 255),
        width=int(2.5 * scale),
    )
    rows = plate_text(rng, shape)
    font = ImageFont.truetype(str(FONTS[rng.integers(len(FONTS))]), 200)
    margin_x = 10 * scale
    row_height = (height - 2 * 9 * scale) / len(rows) - (6 * scale if len(rows) == 2 else 0)
    for index, text in enumerate(rows):
        row = _text_row(text, font, int(row_height), int(width - 2 * margin_x))
        top = 9 * scale + index * (row_height + 12 * scale)
        plate.paste((*ink, 255), ((width - row.width) // 2, int(top)), row)
    return np.asarray(plate), " / ".join(rows)


def warp_onto(
    canvas: np.ndarray, rgba: np.ndarray, quad: np.ndarray, *, blur: float, light: float
) -> None:
    """Paste an RGBA picture onto the canvas through the perspective given by `quad`
    (corners clockwise from top-left, in canvas pixels), blurred and lit."""
    h, w = rgba.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    x0, y0 = np.floor(quad.min(axis=0)).astype(int) - 4
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 4
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, canvas.shape[1]), min(y1, canvas.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    matrix = cv2.getPerspectiveTransform(corners, np.float32(quad - [x0, y0]))
    patch = cv2.warpPerspective(
        rgba, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_AREA, borderValue=(0, 0, 0, 0)
    ).astype(np.float32)
    if blur > 0.3:
        patch = cv2.GaussianBlur(patch, (0, 0), blur)
    alpha = patch[..., 3:4] / 255.0
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    mixed = region * (1 - alpha) + np.clip(patch[..., :3] * light, 0, 255) * alpha
    canvas[y0:y1, x0:x1] = mixed.astype(np.uint8)


def plate_quad(
    rng: np.random.Generator, centre: tuple[float, float], width: float, aspect: float
) -> np.ndarray:
    """The outline of a plate `width` pixels wide (face on) seen at an angle: turned about
    its vertical axis (yaw, up to 45 degrees: it looks narrower, its far side a little
    shorter), tilted (pitch, up to 25: it looks lower) and rolled."""
    yaw = math.radians(rng.uniform(-45, 45))
    pitch = math.radians(rng.uniform(-25, 25))
    roll = math.radians(rng.normal(0, 5))
    hw = width * math.cos(yaw) / 2
    hh = width / aspect * math.cos(pitch) / 2
    near_far = 0.08 * math.sin(yaw)
    top_bottom = 0.08 * math.sin(pitch)
    quad = np.array(
        [
            [-hw * (1 - top_bottom), -hh * (1 - near_far)],
            [hw * (1 - top_bottom), -hh * (1 + near_far)],
            [hw * (1 + top_bottom), hh * (1 + near_far)],
            [-hw * (1 + top_bottom), hh * (1 - near_far)],
        ]
    )
    turn = np.array([[math.cos(roll), -math.sin(roll)], [math.sin(roll), math.cos(roll)]])
    return quad @ turn.T + np.array(centre)


def add_plate(
    scene: Scene,
    rng: np.random.Generator,
    centre: tuple[float, float],
    width: float,
    shape: str,
) -> None:
    colour = rng.choice(["white", "white", "white", "yellow", "blue"])
    rgba, text = render_plate(rng, shape, colour)
    aspect = rgba.shape[1] / rgba.shape[0]
    quad = plate_quad(rng, centre, width, aspect)
    blur = float(rng.choice([0, 0, 0.6, 1.2, 2.0]) * max(1.0, width / 200))
    light = float(rng.uniform(0.55, 1.1))
    warp_onto(scene.image, rgba, quad, blur=blur, light=light)
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    scene.labels.append(
        Label("plate", int(x0), int(y0), int(x1 - x0), int(y1 - y0), f"{colour} {shape} {text}")
    )


# --- street ----------------------------------------------------------------------------

FACADES = [(232, 200, 90), (220, 120, 110), (120, 170, 200), (240, 236, 220), (150, 190, 140)]
SIGN_WORDS = [
    "PHỞ BÒ",
    "CƠM TẤM",
    "SỬA XE MÁY",
    "TẠP HÓA",
    "CÀ PHÊ",
    "ĐIỆN THOẠI",
    "HỚT TÓC",
    "BÚN BÒ HUẾ",
    "NHÀ THUỐC",
    "VẬT LIỆU XÂY DỰNG",
    "KHÁCH SẠN",
    "BÁNH MÌ",
]


def texture(name: str, size: tuple[int, int], tint: tuple[int, int, int]) -> np.ndarray:
    grey = np.asarray(Image.open(SOURCES / f"{name}.jpg").convert("L"), dtype=np.float32)
    reps = (size[1] // grey.shape[0] + 1, size[0] // grey.shape[1] + 1)
    tiled = np.tile(grey, reps)[: size[1], : size[0]] / 255.0
    return (tiled[..., None] * np.array(tint, dtype=np.float32)).clip(0, 255).astype(np.uint8)


def draw_text_box(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    text: str,
    fill: tuple[int, int, int],
    ink: tuple[int, int, int],
    font_path: Path,
) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=fill)
    size = max(8, int((y1 - y0) * 0.6))
    font = ImageFont.truetype(str(font_path), size)
    while font.getlength(text) > (x1 - x0) * 0.92 and size > 8:
        size -= 2
        font = ImageFont.truetype(str(font_path), size)
    width = font.getlength(text)
    draw.text(
        ((x0 + x1 - width) / 2, y0 + (y1 - y0 - size) / 2 - size * 0.1), text, font=font, fill=ink
    )


def street(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """House fronts with signs over a pavement and a road: no faces, no plates."""
    horizon = int(height * rng.uniform(0.42, 0.58))
    canvas = Image.new("RGB", (width, height))
    sky = np.linspace([150, 190, 230], [220, 230, 240], max(1, horizon // 3)).astype(np.uint8)
    canvas.paste(Image.fromarray(np.repeat(sky[:, None, :], width, axis=1)), (0, 0))
    draw = ImageDraw.Draw(canvas)
    x = int(-rng.uniform(0, 200))
    unit = width / 1600
    while x < width:
        house = int(rng.uniform(220, 420) * unit)
        top = int(rng.uniform(0, horizon * 0.35))
        colour = FACADES[rng.integers(len(FACADES))]
        if rng.random() < 0.3:
            front = texture("brick", (house, horizon - top), colour)
            canvas.paste(Image.fromarray(front), (x, top))
        else:
            draw.rectangle((x, top, x + house, horizon), fill=colour)
        for floor_top in range(top + int(30 * unit), horizon - int(160 * unit), int(110 * unit)):
            draw.rectangle(
                (x + house * 0.2, floor_top, x + house * 0.8, floor_top + 70 * unit),
                fill=(50, 60, 70),
            )
            draw.rectangle(
                (x + house * 0.1, floor_top + 76 * unit, x + house * 0.9, floor_top + 82 * unit),
                fill=(90, 90, 90),
            )
        sign_top = horizon - int(rng.uniform(150, 200) * unit)
        sign_height = int(rng.uniform(40, 70) * unit)
        words = SIGN_WORDS[rng.integers(len(SIGN_WORDS))]
        if rng.random() < 0.5:
            words += f"  {rng.integers(0, 1000):03d}.{rng.integers(0, 1000):03d}"
        sign_fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        ink = (255, 255, 255) if sum(sign_fill) < 380 else (20, 20, 20)
        font = FONTS[1]
        draw_text_box(
            draw,
            (x + 6, sign_top, x + house - 6, sign_top + sign_height),
            words,
            sign_fill,
            ink,
            font,
        )
        if rng.random() < 0.6:
            # A house number: white digits on a small blue plate, as on Hue's streets.
            nx = x + int(house * rng.uniform(0.05, 0.6))
            ny = sign_top - int(45 * unit)
            draw_text_box(
                draw,
                (nx, ny, nx + int(70 * unit), ny + int(34 * unit)),
                f"{rng.integers(1, 300)}",
                (30, 80, 170),
                (250, 250, 250),
                font,
            )
        if rng.random() < 0.4:
            phone = f"0{rng.integers(300, 999)} {rng.integers(100, 999)} {rng.integers(100, 999)}"
            px = x + int(house * 0.15)
            py = top + int(rng.uniform(10, 40) * unit)
            draw_text_box(
                draw,
                (px, py, px + int(house * 0.7), py + int(30 * unit)),
                phone,
                (245, 245, 245),
                (200, 20, 20),
                font,
            )
        x += house
    pavement = texture("gravel", (width, int(height * 0.08)), (190, 185, 175))
    canvas.paste(Image.fromarray(pavement), (0, horizon))
    road_top = horizon + pavement.shape[0]
    road = texture("gravel", (width, height - road_top), (105, 105, 110))
    canvas.paste(Image.fromarray(road), (0, road_top))
    for lane in range(int(rng.uniform(-200, 0)), width, int(300 * unit)):
        draw.polygon(
            [
                (lane, height - 40 * unit),
                (lane + 120 * unit, height - 40 * unit),
                (lane + 110 * unit, height - 30 * unit),
                (lane - 10 * unit, height - 30 * unit),
            ],
            fill=(230, 230, 225),
        )
    if rng.random() < 0.5:
        tree_x = int(rng.uniform(0, width))
        leaves = texture("grass", (int(300 * unit), int(260 * unit)), (70, 140, 60))
        mask = Image.new("L", (leaves.shape[1], leaves.shape[0]), 0)
        ImageDraw.Draw(mask).ellipse((0, 0, leaves.shape[1], leaves.shape[0]), fill=255)
        canvas.paste(Image.fromarray(leaves), (tree_x, int(horizon * 0.35)), mask)
    return np.array(canvas)


def add_car(
    scene: Scene,
    rng: np.random.Generator,
    centre_x: float,
    bottom: float,
    width: float,
    shape: str,
) -> None:
    """A car from the front or the back: body, glass, lights, wheels, and its plate."""
    image = Image.fromarray(scene.image)
    draw = ImageDraw.Draw(image)
    height = width * 0.62
    left, top = centre_x - width / 2, bottom - height
    body = tuple(int(v) for v in rng.integers(20, 240, 3))
    draw.rounded_rectangle(
        (left, top + height * 0.3, left + width, bottom - height * 0.08), width * 0.06, fill=body
    )
    draw.polygon(
        [
            (left + width * 0.15, top + height * 0.32),
            (left + width * 0.25, top),
            (left + width * 0.75, top),
            (left + width * 0.85, top + height * 0.32),
        ],
        fill=tuple(int(v * 0.8) for v in body),
    )
    draw.polygon(
        [
            (left + width * 0.2, top + height * 0.3),
            (left + width * 0.28, top + height * 0.05),
            (left + width * 0.72, top + height * 0.05),
            (left + width * 0.8, top + height * 0.3),
        ],
        fill=(60, 75, 90),
    )
    for side in (0.04, 0.8):
        draw.rounded_rectangle(
            (
                left + width * side,
                top + height * 0.42,
                left + width * (side + 0.16),
                top + height * 0.55,
            ),
            width * 0.02,
            fill=(250, 240, 200),
        )
        draw.rectangle(
            (
                left + width * (side + 0.02),
                bottom - height * 0.12,
                left + width * (side + 0.14),
                bottom,
            ),
            fill=(25, 25, 25),
        )
    scene.image = np.array(image)
    plate_span = width * (0.36 if shape == "long" else 0.24)
    add_plate(scene, rng, (centre_x, top + height * 0.72), plate_span, shape)


def add_motorbike(
    scene: Scene, rng: np.random.Generator, centre_x: float, bottom: float, width: float
) -> None:
    """A motorbike from behind: wheel, seat, tail light, and its two-line plate."""
    image = Image.fromarray(scene.image)
    draw = ImageDraw.Draw(image)
    height = width * 2.0
    left, top = centre_x - width / 2, bottom - height
    draw.rounded_rectangle(
        (centre_x - width * 0.12, bottom - height * 0.35, centre_x + width * 0.12, bottom),
        width * 0.1,
        fill=(20, 20, 20),
    )
    body = tuple(int(v) for v in rng.integers(20, 240, 3))
    draw.rounded_rectangle(
        (left, top + height * 0.25, left + width, top + height * 0.62), width * 0.2, fill=body
    )
    draw.rectangle(
        (left + width * 0.1, top + height * 0.18, left + width * 0.9, top + height * 0.27),
        fill=(30, 30, 30),
    )
    draw.rectangle(
        (centre_x - width * 0.2, top + height * 0.3, centre_x + width * 0.2, top + height * 0.36),
        fill=(200, 30, 30),
    )
    scene.image = np.array(image)
    add_plate(scene, rng, (centre_x, top + height * 0.5), width * 0.62, "motorbike")


def face_cutout(name: str) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Head and shoulders from a portrait, as RGBA with a soft edge, and the face's box in it."""
    picture = load(name)
    fx, fy, fw, fh = SOURCE_FACES[name][0]
    x0, y0 = max(0, int(fx - 0.8 * fw)), max(0, int(fy - 0.45 * fh))
    x1 = min(picture.shape[1], int(fx + 1.8 * fw))
    y1 = min(picture.shape[0], int(fy + 2.1 * fh))
    crop = picture[y0:y1, x0:x1]
    mask = Image.new("L", (crop.shape[1], crop.shape[0]), 0)
    mdraw = ImageDraw.Draw(mask)
    cx, top = fx - x0 + fw / 2, fy - y0 - 0.35 * fh
    mdraw.ellipse((cx - 0.75 * fw, top, cx + 0.75 * fw, fy - y0 + 1.15 * fh), fill=255)
    mdraw.rounded_rectangle(
        (cx - 1.3 * fw, fy - y0 + 1.05 * fh, cx + 1.3 * fw, crop.shape[0]), fw * 0.4, fill=255
    )
    mask = mask.filter(ImageFilter.GaussianBlur(max(2, fw / 25)))
    rgba = np.dstack([crop, np.asarray(mask)])
    return rgba, (fx - x0, fy - y0, fw, fh)


def add_person(
    scene: Scene,
    rng: np.random.Generator,
    centre: tuple[float, float],
    face_height: float,
) -> None:
    name = PORTRAITS[rng.integers(len(PORTRAITS))]
    scene.sources.add(name)
    rgba, (fx, fy, fw, fh) = face_cutout(name)
    if rng.random() < 0.5:
        rgba = rgba[:, ::-1]
        fx = rgba.shape[1] - fx - fw
    scale = face_height / fh
    angle = float(rng.normal(0, 9))
    h, w = rgba.shape[:2]
    face_centre = np.array([fx + fw / 2, fy + fh / 2])
    # Source corners placed so that the face's centre lands on `centre`, scaled and turned.
    theta = math.radians(angle)
    turn = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    quad = ((corners - face_centre) * scale) @ turn.T + np.array(centre)
    patch = rgba.astype(np.float32)
    gain = rng.uniform(0.5, 1.25)
    patch[..., :3] = patch[..., :3] * gain
    blur = float(rng.choice([0, 0, 0, 0.8, 1.6, 2.5]) * max(1.0, face_height / 120))
    warp_onto(scene.image, patch.clip(0, 255).astype(np.uint8), quad, blur=blur, light=1.0)
    a, b = fw * scale / 2, fh * scale / 2
    half_w = math.sqrt((a * math.cos(theta)) ** 2 + (b * math.sin(theta)) ** 2)
    half_h = math.sqrt((a * math.sin(theta)) ** 2 + (b * math.cos(theta)) ** 2)
    note = f"{name} {angle:+.0f}deg blur {blur:.1f} light {gain:.2f}"
    scene.labels.append(
        Label(
            "face",
            int(centre[0] - half_w),
            int(centre[1] - half_h),
            int(2 * half_w),
            int(2 * half_h),
            note,
        )
    )


def face_size(rng: np.random.Generator, unit: float) -> float:
    """Face heights in a street photo: mostly 40-250 px at 1,600 px, some smaller."""
    if rng.random() < 0.2:
        return rng.uniform(18, 40) * unit
    return math.exp(rng.uniform(math.log(40), math.log(260))) * unit


def plate_width(rng: np.random.Generator, unit: float) -> float:
    if rng.random() < 0.15:
        return rng.uniform(35, 60) * unit
    return math.exp(rng.uniform(math.log(60), math.log(320))) * unit


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def compose_scene(seed: int, size: tuple[int, int] | None = None) -> Scene:
    rng = np.random.default_rng(seed)
    if size is None:
        size = (1600, 1200) if rng.random() < 0.75 else (1200, 1600)
    width, height = size
    unit = max(width, height) / 1600
    scene = Scene(street(rng, width, height), sources={"brick", "gravel", "grass"})
    # (depth, kind, centre x, size): far things first, so that near ones cover them.
    things: list[tuple[float, str, float, float]] = []
    for _ in range(rng.integers(1, 4)):
        things.append((rng.uniform(0.3, 1.0), "vehicle", rng.uniform(0.05, 0.95), 0))
    for _ in range(rng.integers(1, 4)):
        things.append((rng.uniform(0.2, 1.0), "person", rng.uniform(0.05, 0.95), 0))
    taken: list[tuple[float, float, float, float]] = []
    for depth, kind, across, _ in sorted(things):
        # Nothing covers a labelled thing: a place that overlaps one already taken is
        # tried again elsewhere, a few times, then the thing is left out.
        for _attempt in range(12):
            x = across * width
            if kind == "vehicle":
                wanted = plate_width(rng, unit)
                if rng.random() < 0.5:
                    shape = "long" if rng.random() < 0.7 else "short"
                    span = wanted / (0.36 if shape == "long" else 0.24)
                    bottom = min(height * (0.62 + 0.36 * depth), height - 5)
                    footprint = (x - span / 2, bottom - span * 0.62, span, span * 0.62)
                else:
                    shape = "motorbike"
                    span = wanted / 0.62
                    bottom = min(height * (0.6 + 0.38 * depth), height - 5)
                    footprint = (x - span / 2, bottom - span * 2, span, span * 2)
            else:
                face = face_size(rng, unit)
                y = height * (0.3 + 0.45 * depth)
                footprint = (x - 1.4 * face, y - 0.9 * face, 2.8 * face, 2.6 * face)
            if not any(overlaps(footprint, other) for other in taken):
                break
            across = rng.uniform(0.05, 0.95)
        else:
            continue
        taken.append(footprint)
        if kind == "person":
            add_person(scene, rng, (x, y), face)
        elif shape == "motorbike":
            add_motorbike(scene, rng, x, bottom, span)
        else:
            add_car(scene, rng, x, bottom, span, shape)
    light = rng.uniform(0.45, 1.25)
    cast = rng.uniform(0.9, 1.1, 3)
    picture = scene.image.astype(np.float32) * light * cast
    noise = rng.normal(0, rng.uniform(1, 6), picture.shape)
    scene.image = (picture + noise).clip(0, 255).astype(np.uint8)
    scene.conditions = [f"light {light:.2f}", f"size {width}x{height}"]
    if rng.random() < 0.15:
        length = int(rng.uniform(5, 12) * unit)
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1 / length
        scene.image = cv2.filter2D(scene.image, -1, kernel)
        scene.conditions.append(f"motion blur {length}px")
    # Drop labels that fell outside the picture; clip the rest to it.
    kept = []
    for label in scene.labels:
        x0, y0 = max(0, label.x), max(0, label.y)
        x1, y1 = min(width, label.x + label.width), min(height, label.y + label.height)
        if (x1 - x0) * (y1 - y0) >= 0.5 * label.width * label.height:
            kept.append(Label(label.kind, x0, y0, x1 - x0, y1 - y0, label.note))
    scene.labels = kept
    return scene


def check_picture() -> Scene:
    """The picture reports.detection checks its detectors on at start (640 x 480): a face
    and a plate, each plainly visible, on a street."""
    rng = np.random.default_rng(2026)
    scene = Scene(street(rng, 640, 480), sources={"astronaut", "brick", "gravel", "grass"})
    rgba, (fx, fy, fw, fh) = face_cutout("astronaut")
    scale = 90 / fh
    corners = np.array(
        [[0, 0], [rgba.shape[1], 0], [rgba.shape[1], rgba.shape[0]], [0, rgba.shape[0]]]
    )
    quad = (corners - [fx + fw / 2, fy + fh / 2]) * scale + [170, 200]
    warp_onto(scene.image, rgba, quad.astype(np.float64), blur=0, light=1.0)
    scene.labels.append(Label("face", round(170 - fw * scale / 2), 200 - 45, round(fw * scale), 90))
    plate, text = render_plate(rng, "long", "white")
    quad = np.array(
        [[380, 330], [600, 330], [600, 330 + 220 * 110 / 520], [380, 330 + 220 * 110 / 520]]
    )
    warp_onto(scene.image, plate, quad, blur=0, light=1.0)
    scene.labels.append(Label("plate", 380, 330, 220, round(220 * 110 / 520), text))
    return scene


def jpeg(image: np.ndarray, path: Path, quality: int) -> None:
    Image.fromarray(image).save(path, format="JPEG", quality=quality)


def write_set(out: Path, first_seed: int, count: int, *, with_packages: bool) -> None:
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    entries = []
    if with_packages:
        for name in AS_IS:
            picture = load(name)
            path = images / f"package-{name}.jpg"
            jpeg(picture, path, 92)
            labels = [Label("face", *box) for box in SOURCE_FACES.get(name, [])]
            entries.append(
                {
                    "file": f"images/{path.name}",
                    "width": picture.shape[1],
                    "height": picture.shape[0],
                    "licence": SOURCES_LICENCES[name],
                    "sources": [name],
                    "conditions": ["as shipped"],
                    "labels": [asdict(label) for label in labels],
                }
            )
    for seed in range(first_seed, first_seed + count):
        scene = compose_scene(seed)
        path = images / f"scene-{seed:03d}.jpg"
        jpeg(scene.image, path, 82)
        entries.append(
            {
                "file": f"images/{path.name}",
                "width": scene.image.shape[1],
                "height": scene.image.shape[0],
                "seed": seed,
                "licence": COMPOSED_LICENCE,
                "sources": sorted(scene.sources),
                "conditions": scene.conditions,
                "labels": [asdict(label) for label in scene.labels],
            }
        )
    manifest = {
        "description": "Labelled evaluation set of photo redaction (issue 15); boxes are "
        "x, y, width, height in the image's pixels. Made by tests/perf/redaction_scenes.py.",
        "sources": {name: SOURCES_LICENCES[name] for name in sorted(SOURCES_LICENCES)},
        "fonts": {
            "LiberationSansNarrow-Bold.ttf": "Debian fonts-liberation 1.07: GPL-2 with the "
            "font exception",
            "DejaVuSansCondensed-Bold.ttf": "Debian fonts-dejavu-extra 2.37: Bitstream Vera "
            "licence (free)",
        },
        "images": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=SET)
    parser.add_argument("--first-seed", type=int, default=FIRST_SEED)
    parser.add_argument("--count", type=int, default=SCENES)
    parser.add_argument("--check-picture", type=Path, help="write the detectors' check picture")
    args = parser.parse_args()
    missing = [str(font) for font in FONTS if not font.exists()]
    if missing:
        sys.exit(f"missing fonts {missing}: apt-get install fonts-liberation fonts-dejavu-extra")
    if args.check_picture:
        scene = check_picture()
        jpeg(scene.image, args.check_picture, 90)
        print(*scene.labels, sep="\n")  # noqa: T201
        return 0
    write_set(args.out, args.first_seed, args.count, with_packages=args.out == SET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
