"""Writes the demo's product photo: scikit-image's `coffee` (a CC0 photograph by Rachel Michetti of an
espresso cup on a saucer, courtesy of Pikolo Espresso Bar), so `make demo` renders the product-photo
path with an image anyone may use. Usage: python scripts/demo_photo.py out/coffee.png"""

import sys
from pathlib import Path

from PIL import Image
from skimage import data

target = Path(sys.argv[1])
target.parent.mkdir(parents=True, exist_ok=True)
Image.fromarray(data.coffee()).save(target)
print(target)
