using System.Text;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// Reads the spans of an OTLP <c>ExportTraceServiceRequest</c> (protobuf, opentelemetry-proto
/// <c>collector/trace/v1</c>): request.1 resource_spans → 2 scope_spans → 2 spans; a span's fields 1 trace_id, 2 span_id,
/// 4 parent_span_id, 5 name, 6 kind, 7 start time, 8 end time, 9 attributes (KeyValue: 1 key, 2 AnyValue: 1 string, 3 int), 13 links (1 trace_id,
/// 2 span_id). Every other field is skipped by its wire type.
/// </summary>
internal static class OtlpSpanReader
{
    public static List<ReceivedSpan> ReadExportRequest(ReadOnlySpan<byte> request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var resourceSpans in Fields(request, 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans.Span, 2))
            {
                foreach (var span in Fields(scopeSpans.Span, 2))
                {
                    spans.Add(ReadSpan(span.Span));
                }
            }
        }
        return spans;
    }

    private static ReceivedSpan ReadSpan(ReadOnlySpan<byte> span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, string>();
        var links = new List<(string, string)>();
        var reader = new Reader(span);
        while (reader.Next(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (1, 2): traceId = Convert.ToHexStringLower(reader.Bytes()); break;
                case (2, 2): spanId = Convert.ToHexStringLower(reader.Bytes()); break;
                case (4, 2): parent = Convert.ToHexStringLower(reader.Bytes()); break;
                case (5, 2): name = Encoding.UTF8.GetString(reader.Bytes()); break;
                case (6, 0): kind = (int)reader.Varint(); break;
                case (7, 1): start = reader.Fixed64(); break;
                case (8, 1): end = reader.Fixed64(); break;
                case (9, 2): ReadAttribute(reader.Bytes(), attributes); break;
                case (13, 2):
                    var link = reader.Bytes();
                    links.Add((Convert.ToHexStringLower(Field(link, 1)), Convert.ToHexStringLower(Field(link, 2))));
                    break;
                default: reader.Skip(wireType); break;
            }
        }
        return new ReceivedSpan(traceId, spanId, parent, name, kind, start, end, attributes, links);
    }

    private static void ReadAttribute(ReadOnlySpan<byte> keyValue, Dictionary<string, string> attributes)
    {
        var key = Encoding.UTF8.GetString(Field(keyValue, 1));
        var reader = new Reader(Field(keyValue, 2));
        while (reader.Next(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (1, 2): attributes[key] = Encoding.UTF8.GetString(reader.Bytes()); break;
                case (3, 0): attributes[key] = ((long)reader.Varint()).ToString(System.Globalization.CultureInfo.InvariantCulture); break;
                default: reader.Skip(wireType); break;
            }
        }
    }

    // The first length-delimited field numbered field, or nothing.
    private static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> message, int wanted)
    {
        var reader = new Reader(message);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == wanted && wireType == 2)
            {
                return reader.Bytes();
            }
            reader.Skip(wireType);
        }
        return [];
    }

    private static List<ReadOnlyMemory<byte>> Fields(ReadOnlySpan<byte> message, int wanted)
    {
        var found = new List<ReadOnlyMemory<byte>>();
        var reader = new Reader(message);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == wanted && wireType == 2)
            {
                found.Add(reader.Bytes().ToArray());
            }
            else
            {
                reader.Skip(wireType);
            }
        }
        return found;
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public bool Next(out int field, out int wireType)
        {
            if (_position >= _data.Length)
            {
                field = wireType = 0;
                return false;
            }
            var tag = Varint();
            field = (int)(tag >> 3);
            wireType = (int)(tag & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = _data[_position++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }

        public ulong Fixed64()
        {
            var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_data.Slice(_position, 8));
            _position += 8;
            return value;
        }

        public ReadOnlySpan<byte> Bytes()
        {
            var length = (int)Varint();
            var bytes = _data.Slice(_position, length);
            _position += length;
            return bytes;
        }

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case 0: Varint(); break;
                case 1: _position += 8; break;
                case 2: Bytes(); break;
                case 5: _position += 4; break;
                default: throw new InvalidDataException($"protobuf wire type {wireType} is not expected in OTLP");
            }
        }
    }
}
