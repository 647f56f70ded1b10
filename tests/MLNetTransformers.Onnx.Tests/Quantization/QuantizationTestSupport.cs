using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Onnx.Tests.Quantization;

/// <summary>Small hand-built graphs, deterministic data, and running models in ONNX Runtime for the quantization tests.</summary>
internal static class QuantizationTestSupport
{
    /// <summary>A graph builder for tests: float32 inputs/outputs with given shapes (null dims are symbolic).</summary>
    internal sealed class GraphBuilder
    {
        private readonly ModelProto _model;

        public GraphBuilder(long opset = 14)
        {
            _model = new ModelProto { IrVersion = 8, ProducerName = "test", Graph = new GraphProto { Name = "test" } };
            _model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        }

        public GraphProto Graph => _model.Graph;

        public GraphBuilder Input(string name, params long?[] dims)
        {
            Graph.Input.Add(Value(name, TensorProto.Types.DataType.Float, dims));
            return this;
        }

        public GraphBuilder Output(string name, params long?[] dims)
        {
            Graph.Output.Add(Value(name, TensorProto.Types.DataType.Float, dims));
            return this;
        }

        public GraphBuilder Weight(string name, float[] values, params long[] dims)
        {
            Graph.Initializer.Add(OnnxTensors.Create(name, values, dims));
            return this;
        }

        public GraphBuilder Node(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = name };
            node.Input.AddRange(inputs);
            node.Output.AddRange(outputs);
            node.Attribute.AddRange(attributes);
            Graph.Node.Add(node);
            return this;
        }

        public OnnxModel Build() => OnnxModel.FromProto(_model.Clone());

        internal static ValueInfoProto Value(string name, TensorProto.Types.DataType type, long?[] dims)
        {
            var shape = new TensorShapeProto();
            for (int i = 0; i < dims.Length; i++)
            {
                shape.Dim.Add(dims[i] is { } d ? new TensorShapeProto.Types.Dimension { DimValue = d } : new TensorShapeProto.Types.Dimension { DimParam = "d" + i });
            }

            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
        }
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>Deterministic values in [-scale, scale] (a simple LCG: the same on every machine).</summary>
    public static float[] Values(int count, int seed, float scale = 1f)
    {
        var values = new float[count];
        uint state = (uint)seed * 2654435761u + 12345u;
        for (int i = 0; i < count; i++)
        {
            state = (state * 1664525u) + 1013904223u;
            values[i] = (((state >> 8) / (float)(1 << 24)) * 2 - 1) * scale;
        }

        return values;
    }

    /// <summary>Row-major [m, k] × [k, n].</summary>
    public static float[] MatMul(float[] a, float[] b, int m, int k, int n)
    {
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int t = 0; t < k; t++)
                {
                    sum += (double)a[(i * k) + t] * b[(t * n) + j];
                }

                c[(i * n) + j] = (float)sum;
            }
        }

        return c;
    }

    /// <summary>Runs a model with float inputs and returns its outputs as float arrays.</summary>
    public static float[][] Run(OnnxModel model, params (string Name, float[] Data, long[] Shape)[] inputs)
    {
        using var session = new InferenceSession(model.ToBytes(), TestSupport.SessionOptions());
        var feeds = inputs.ToDictionary(i => i.Name, i => OrtValue.CreateTensor(i.Data, i.Shape));
        try
        {
            using SessionOutputs outputs = session.Run(feeds);
            return outputs.Select(o => o.ToArray<float>()).ToArray();
        }
        finally
        {
            foreach (OrtValue value in feeds.Values)
            {
                value.Dispose();
            }
        }
    }

    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    public static TensorProto Initializer(OnnxModel model, string name) => model.Graph.Initializer.Single(t => t.Name == name);

    public static float[] Floats(TensorProto tensor) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(OnnxTensors.RawBytes(tensor)).ToArray();
}
