using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace PulseCart.Grains.Persistence;

/// <summary>
/// Writes a state record: fields in a fixed order that <see cref="RecordReader"/> reads back in the same order.
/// Smaller and cheaper than a general serializer because both sides know the shape; to add a field, append it and raise
/// the record's format number, and keep reading the older formats.
/// </summary>
public sealed class RecordWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public void Reset() => _buffer.ResetWrittenCount();

    public void Byte(byte value) => _buffer.Write([value]);

    public void Int(int value) => VarInt((uint)((value << 1) ^ (value >> 31)));

    public void String(string? value)
    {
        if (value is null)
        {
            VarInt(0);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        VarInt((uint)length + 1);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
    }

    /// <summary>A point in time with its offset: <c>occurred_at</c> values keep the offset the event carried.</summary>
    public void Time(DateTimeOffset? value)
    {
        if (value is not { } time)
        {
            Byte(0);
            return;
        }

        var span = _buffer.GetSpan(11);
        span[0] = 1;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], time.UtcTicks);
        BinaryPrimitives.WriteInt16LittleEndian(span[9..], (short)time.Offset.TotalMinutes);
        _buffer.Advance(11);
    }

    public void Decimal(decimal? value)
    {
        if (value is not { } number)
        {
            Byte(0);
            return;
        }

        Byte(1);
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(number, bits);
        var span = _buffer.GetSpan(16);
        for (var i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], bits[i]);
        }

        _buffer.Advance(16);
    }

    private void VarInt(uint value)
    {
        var span = _buffer.GetSpan(5);
        var length = 0;
        while (value >= 0x80)
        {
            span[length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[length++] = (byte)value;
        _buffer.Advance(length);
    }
}

/// <summary>Reads what <see cref="RecordWriter"/> wrote, field by field in the same order.</summary>
public ref struct RecordReader(ReadOnlySpan<byte> record)
{
    private ReadOnlySpan<byte> _rest = record;

    /// <summary>True when every field was read: fields a newer format appended are then absent.</summary>
    public readonly bool AtEnd => _rest.IsEmpty;

    public byte Byte()
    {
        var value = _rest[0];
        _rest = _rest[1..];
        return value;
    }

    public int Int()
    {
        var value = VarInt();
        return (int)(value >> 1) ^ -(int)(value & 1);
    }

    public string? String()
    {
        var length = VarInt();
        if (length == 0)
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(_rest[..(int)(length - 1)]);
        _rest = _rest[(int)(length - 1)..];
        return text;
    }

    public DateTimeOffset? Time()
    {
        if (Byte() == 0)
        {
            return null;
        }

        var ticks = BinaryPrimitives.ReadInt64LittleEndian(_rest);
        var offset = TimeSpan.FromMinutes(BinaryPrimitives.ReadInt16LittleEndian(_rest[8..]));
        _rest = _rest[10..];
        return new DateTimeOffset(ticks + offset.Ticks, offset);
    }

    public decimal? Decimal()
    {
        if (Byte() == 0)
        {
            return null;
        }

        Span<int> bits = stackalloc int[4];
        for (var i = 0; i < 4; i++)
        {
            bits[i] = BinaryPrimitives.ReadInt32LittleEndian(_rest[(i * 4)..]);
        }

        _rest = _rest[16..];
        return new decimal(bits);
    }

    private uint VarInt()
    {
        uint value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var next = Byte();
            value |= (uint)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return value;
            }
        }
    }
}
