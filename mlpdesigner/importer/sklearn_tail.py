"""skl2onnx classifiers: the probabilities are the model; the label output and ZipMap are bookkeeping.

skl2onnx writes an ``MLPClassifier`` as MatMul + Add layers ending in the
class probabilities, then two outputs in its ``ai.onnx.ml`` domain:

- ``label``: ``ArgMax`` of the probabilities, looked up in the constant class
  labels by ``ArrayFeatureExtractor`` (then ``Reshape`` / ``Cast`` /
  ``Identity``);
- ``probabilities``: a ``ZipMap`` of the probabilities into one {label: p}
  map per row (or, with ``zipmap=False``, the tensor through ``Identity``).

A binary classifier's probabilities are ``Concat(1 - p, p)`` of its one
logistic unit ``p``. :func:`strip_classifier_tail` removes that tail, so the
graph ends in the probability tensor (``p`` for a binary classifier) under the
probability output's name, and returns the class labels for the spec's
``classes``. A graph that only looks partly like this is left as it is, and
the reader refuses its ``ai.onnx.ml`` node by name.
"""

from __future__ import annotations

from typing import Any

#: The only ``ai.onnx.ml`` ops that may appear, and only in the classifier tail.
TAIL_ML_OPS = {"ZipMap", "ArrayFeatureExtractor"}

#: Ops the label chain passes through after ``ArrayFeatureExtractor``.
LABEL_CHAIN = {"Reshape", "Cast", "Identity"}


def _labels(proto: Any, name: str) -> list[str] | None:
    from onnx import numpy_helper

    for tensor in proto.graph.initializer:
        if tensor.name == name:
            values = numpy_helper.to_array(tensor).reshape(-1).tolist()
            return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]
    return None


def strip_classifier_tail(proto: Any) -> tuple[Any, dict[str, list[str]]]:
    """(The graph without skl2onnx's label output and ZipMap, {probability output name: class labels}).

    Returns ``proto`` unchanged and no labels when the graph is not an skl2onnx classifier.
    """
    import onnx
    from onnx import helper

    graph = proto.graph
    nodes = list(graph.node)
    ml = [n for n in nodes if n.domain == "ai.onnx.ml"]
    if not ml or any(n.op_type not in TAIL_ML_OPS for n in ml):
        return proto, {}
    producer = {out: n for n in nodes for out in n.output}
    users: dict[str, list[Any]] = {}
    for node in nodes:
        for value in node.input:
            users.setdefault(value, []).append(node)
    outputs = [o.name for o in graph.output]
    extractors = [n for n in ml if n.op_type == "ArrayFeatureExtractor"]
    if len(extractors) != 1:
        return proto, {}
    extractor = extractors[0]
    argmax = producer.get(extractor.input[1])
    labels = _labels(proto, extractor.input[0])
    if argmax is None or argmax.op_type != "ArgMax" or labels is None:
        return proto, {}
    probabilities = argmax.input[0]
    dropped = [extractor, argmax]
    value = extractor.output[0]
    while value not in outputs:  # the label chain down to the label output
        following = users.get(value, [])
        if len(following) != 1 or following[0].op_type not in LABEL_CHAIN:
            return proto, {}
        dropped.append(following[0])
        value = following[0].output[0]
    label_output = value
    readers = [n for n in users.get(probabilities, []) if n is not argmax]
    if not readers and probabilities in outputs:  # zipmap=False: the tensor is the output itself
        probability_output = probabilities
    elif len(readers) == 1 and readers[0].op_type in ("ZipMap", "Identity") and readers[0].output[0] in outputs:
        dropped.append(readers[0])
        probability_output = readers[0].output[0]
    else:
        return proto, {}
    source = probabilities
    concat = producer.get(probabilities)
    if concat is not None and concat.op_type == "Concat" and len(concat.input) == 2 and len(labels) == 2:
        complement, positive = (producer.get(v) for v in concat.input)
        unity = _labels(proto, complement.input[0]) if complement is not None else None
        if complement is not None and complement.op_type == "Sub" and complement.input[1] == concat.input[1] \
                and positive is not None and unity is not None and [float(v) for v in unity] == [1.0]:
            source = concat.input[1]  # Concat(1 - p, p) of a binary classifier's logistic unit p
            dropped += [concat, complement]
    trimmed = onnx.ModelProto()
    trimmed.CopyFrom(proto)
    keep = [n for n in nodes if not any(n is d for d in dropped)]
    if source != probability_output:
        keep.append(helper.make_node("Identity", [source], [probability_output], "probabilities"))
    del trimmed.graph.node[:]
    trimmed.graph.node.extend(keep)
    del trimmed.graph.output[:]
    for name in outputs:
        if name == label_output:
            continue
        if name == probability_output:
            trimmed.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, [None, None]))
        else:
            trimmed.graph.output.extend([o for o in graph.output if o.name == name])
    read = {v for n in keep for v in n.input}
    initializers = [t for t in trimmed.graph.initializer if t.name in read]
    del trimmed.graph.initializer[:]
    trimmed.graph.initializer.extend(initializers)
    del trimmed.opset_import[:]
    trimmed.opset_import.extend([o for o in proto.opset_import if o.domain != "ai.onnx.ml"])
    return trimmed, {probability_output: labels}
