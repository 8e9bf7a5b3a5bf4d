"""The U-Net: valid padding, depth 4, conv -> ReLU -> BatchNorm, 2x2 transposed-conv up-sampling,
sigmoid head, division by 255 inside the model (the published architecture, width configurable).

With valid padding the output is smaller than the input by a fixed margin on each side (92 pixels
at depth 4): a 668 x 668 input gives 484 x 484. Inputs must be 16k + 124 pixels on each side.
"""


# Layer names the lab and the engine look up (train.transfer_weights, fit_colour_head, pipeline.memory_width).
FIRST_CONV = "down0_conv1"
OUTPUT_LAYER = "cloud_probability"
HEAD_INPUT = "decoder_and_colour"      # the concatenation the colour head sees
HEAD_PREFIX = "colour_head"            # colour_head1, colour_head2 ...


def head_layers(keras_model):
    """A colour head's 1x1 convolutions, then the output layer ([the output layer] without a head)."""
    return ([layer for layer in keras_model.layers if layer.name.startswith(HEAD_PREFIX)]
            + [keras_model.get_layer(OUTPUT_LAYER)])


def head_features(keras_model):
    """Features per pixel a colour head sees; 0 without one."""
    names = [layer.name for layer in keras_model.layers]
    return int(keras_model.get_layer(HEAD_INPUT).output.shape[-1]) if HEAD_INPUT in names else 0


def networks(keras_model):
    """The U-Nets a model file runs: the model itself, or the members an ensemble averages."""
    members = [layer for layer in keras_model.layers if hasattr(layer, "layers")]
    return members or [keras_model]


def head_channels(keras_model):
    """Channels colour heads hold per pixel at full resolution (their features and units; every
    member's in an ensemble); 0 without one."""
    return sum(_one_head_channels(network) for network in networks(keras_model))


def _one_head_channels(network):
    features = head_features(network)
    return features and features + sum(int(layer.filters) for layer in head_layers(network)[:-1])


def margin(depth=4):
    """Pixels lost on each side: two 3x3 valid convs per level, going down and coming back up."""
    down = sum(2 * 2 ** level for level in range(depth))
    return 2 * down + 2 * 2 ** depth


def is_valid_input_size(size, depth=4):
    """True when every pooling step divides evenly (16k + 124 at depth 4) and the output is > 0.

    Walking up from a bottom size b: s = 2 s' + 4 at each level, so s = 2^depth b + 4 (2^depth - 1).
    """
    offset = 4 * (2 ** depth - 1)
    return size > 2 * margin(depth) and (size - offset) % 2 ** depth == 0


def valid_input_size(at_least, depth=4):
    """Smallest valid input side that is >= at_least."""
    size = max(at_least, 2 * margin(depth) + 1)
    step, offset = 2 ** depth, 4 * (2 ** depth - 1)
    return size + (-(size - offset)) % step


def build_unet(width=16, depth=4, name="mars_cloudmask_unet", bn_momentum=0.99, latitude_channel=False, inputs=None,
               colour_head=None):
    """A fully convolutional U-Net taking (rows, cols, channels) (RGB in 0..255, plus latitude with
    `latitude_channel`, or the named `inputs` of inputs.CHANNELS), giving (rows', cols', 1) cloud
    probability; any valid input size works, so tiles and whole areas share the weights.

    With `colour_head` ({"boxes": [5, 15, 45], "units": [32, 16]}) the last layer is a per-pixel
    network instead of one 1x1 convolution: it sees the decoder's features and the scaled inputs with
    their box means (see colour_features), so each pixel's colour and its neighbourhood's, compared
    with the clear sky, reach the decision through more than the decoder's `width` channels.
    Its "inputs" (names) limit the channels the head sees directly (the others reach it through the
    U-Net only): a left-out channel enters the head as zeros, so its weights there do nothing."""
    import keras
    from keras import layers

    def conv_block(x, filters, label):
        for i in (1, 2):
            x = layers.Conv2D(filters, 3, padding="valid", activation="relu", name=f"{label}_conv{i}")(x)
            x = layers.BatchNormalization(momentum=bn_momentum, name=f"{label}_bn{i}")(x)
        return x

    from .inputs import LEGACY_INPUTS, scales
    names = tuple(inputs) if inputs else LEGACY_INPUTS["rgb+latitude" if latitude_channel else "rgb"]
    # Each channel scaled to about 0..1 inside the model (RGB / 255, latitude / 90 ...): colour
    # depends on illumination, which depends on latitude, and a translation-equivariant network
    # cannot know latitude otherwise. Per-pixel channels keep it equivariant, so seamless tiling
    # stays exact.
    input_name = {LEGACY_INPUTS["rgb"]: "rgb", LEGACY_INPUTS["rgb+latitude"]: "rgb_latitude"}.get(names, "channels")
    model_inputs = keras.Input(shape=(None, None, len(names)), name=input_name)
    factors = scales(names)
    x = scaled = layers.Rescaling(factors[0] if len(set(factors)) == 1 else factors, name="scale_0_1")(model_inputs)
    skips = []
    for level in range(depth):
        x = conv_block(x, width * 2 ** level, f"down{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}")(x)
    x = conv_block(x, width * 2 ** depth, "bottom")
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(width * 2 ** level, 2, strides=2, name=f"up{level}")(x)
        # Crop the skip to the up-sampled size: 4 lost per conv pair at each finer level.
        crop = _skip_crop(level, depth)
        skip = layers.Cropping2D(crop, name=f"crop{level}")(skips[level])
        x = layers.Concatenate(name=f"concat{level}")([skip, x])
        x = conv_block(x, width * 2 ** level, f"up{level}")
    if colour_head:
        x = layers.Concatenate(name=HEAD_INPUT)(
            [x] + colour_features(head_scaled(model_inputs, scaled, names, colour_head.get("inputs")),
                                  colour_head.get("boxes", ()), margin(depth)))
        for i, units in enumerate(colour_head.get("units", ()), start=1):
            x = layers.Conv2D(units, 1, activation="relu", name=f"{HEAD_PREFIX}{i}")(x)
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name=OUTPUT_LAYER)(x)
    return keras.Model(model_inputs, outputs, name=name)


def head_scaled(model_inputs, scaled, names, head_inputs):
    """The scaled inputs the colour head sees: all of them, or with `head_inputs` only those (the
    others zero, keeping the head's feature layout whichever channels it sees)."""
    if head_inputs is None:
        return scaled
    from keras import layers
    from .inputs import scales
    unknown = sorted(set(head_inputs) - set(names))
    if unknown:
        raise ValueError(f"colour head inputs {unknown} are not inputs of the network {list(names)}")
    factors = [factor if name in head_inputs else 0.0 for name, factor in zip(names, scales(names))]
    return layers.Rescaling(factors, name="colour_scale_0_1")(model_inputs)


def colour_features(scaled, boxes, crop):
    """The scaled inputs and their means over boxes x boxes pixels (separable stride-1 valid
    pooling, so the network stays translation-equivariant and tiling exact), each cropped to the
    decoder's output. Boxes must fit in the margin: (box - 1) / 2 <= crop."""
    from keras import layers
    if any(box % 2 == 0 or (box - 1) // 2 > crop for box in boxes):
        raise ValueError(f"colour head boxes {list(boxes)} must be odd and at most {2 * crop + 1} px")
    features = [layers.Cropping2D(crop, name="colour_crop")(scaled)]
    for box in boxes:
        mean = layers.AveragePooling2D((box, 1), strides=1, name=f"colour_mean{box}_rows")(scaled)
        mean = layers.AveragePooling2D((1, box), strides=1, name=f"colour_mean{box}_cols")(mean)
        features.append(layers.Cropping2D(crop - (box - 1) // 2, name=f"colour_mean{box}_crop")(mean))
    return features


def _skip_crop(level, depth):
    """Pixels to crop from each side of the level-`level` skip so it matches the decoder."""
    # Going down from this level's skip and back up loses 4 px per conv pair, scaled by 2^(l-level).
    lost = 0
    for lower in range(level + 1, depth):
        lost += 2 * 4 * 2 ** (lower - level)
    lost += 4 * 2 ** (depth - level)
    return lost // 2
