"""LabelMe JSON (versions 3-5) <-> index masks.

Reading: polygon, rectangle, circle and mask shapes are rasterised the way LabelMe does (PIL polygon,
outline included); classes are painted in the classes file's draw order (oocyte, then sERC, then
needle on top). Shapes sharing a group_id form one object; a shape labelled with a hole label (default
`hole`) cuts its area out of the object with the same group_id. line/point/linestrip shapes, polygons
with fewer than 3 points and holes without a matching group are skipped and reported. A shape past the
image border keeps exactly the pixels inside that a raster of the whole shape gives (reported per file in
`clipped`). Anything else wrong with a file raises OocytesegError.

Writing: `mask_to_labelme` turns an index mask into simplified polygons (holes as `hole` shapes with a
group_id), a document that opens in LabelMe.
"""

from oocyteseg.io.labelme.rasterize import (MAX_COORD, MAX_SIDE, UNSUPPORTED, LabelmeAnnotation, Labels,
                                            NotLabelmeError, parse_labelme, rasterize_shapes)
from oocyteseg.io.labelme.read import load_document, load_labelme_image, read_labelme, read_labelme_mask
from oocyteseg.io.labelme.write import LABELME_VERSION, class_regions, mask_to_labelme, mask_to_shapes, write_labelme

__all__ = ["LABELME_VERSION", "MAX_COORD", "MAX_SIDE", "UNSUPPORTED", "LabelmeAnnotation", "Labels", "NotLabelmeError",
           "class_regions", "load_document", "load_labelme_image", "mask_to_labelme", "mask_to_shapes", "parse_labelme",
           "rasterize_shapes", "read_labelme", "read_labelme_mask", "write_labelme"]
