namespace MLNetTransformers.Data.IO.Idv;

/// <summary>
/// The primitive kind of an .idv column value (or of the items of a vector column), mirroring ML.NET's
/// <c>InternalDataKind</c>. The .NET type a reader returns for each kind is given on each member.
/// </summary>
#pragma warning disable CA1720 // The members are deliberately named after the .NET types they hold, as ML.NET's DataKind is.
public enum IdvDataKind
{
    /// <summary>A boolean (<see cref="bool"/>); ML.NET's <c>BL</c>.</summary>
    Boolean,

    /// <summary>A signed 8-bit integer (<see cref="sbyte"/>); ML.NET's <c>I1</c>.</summary>
    SByte,

    /// <summary>A signed 16-bit integer (<see cref="short"/>); ML.NET's <c>I2</c>.</summary>
    Int16,

    /// <summary>A signed 32-bit integer (<see cref="int"/>); ML.NET's <c>I4</c>.</summary>
    Int32,

    /// <summary>A signed 64-bit integer (<see cref="long"/>); ML.NET's <c>I8</c>.</summary>
    Int64,

    /// <summary>An unsigned 8-bit integer (<see cref="byte"/>); ML.NET's <c>U1</c>.</summary>
    Byte,

    /// <summary>An unsigned 16-bit integer (<see cref="ushort"/>); ML.NET's <c>U2</c>.</summary>
    UInt16,

    /// <summary>An unsigned 32-bit integer (<see cref="uint"/>); ML.NET's <c>U4</c>.</summary>
    UInt32,

    /// <summary>An unsigned 64-bit integer (<see cref="ulong"/>); ML.NET's <c>U8</c>.</summary>
    UInt64,

    /// <summary>A 32-bit float (<see cref="float"/>); ML.NET's <c>R4</c>.</summary>
    Single,

    /// <summary>A 64-bit float (<see cref="double"/>); ML.NET's <c>R8</c>.</summary>
    Double,

    /// <summary>Text (<see cref="string"/>, <see langword="null"/> for ML.NET's "missing" text); ML.NET's <c>TX</c>.</summary>
    Text,

    /// <summary>A time span (<see cref="System.TimeSpan"/>); ML.NET's <c>TS</c>.</summary>
    TimeSpan,

    /// <summary>A date and time without offset (<see cref="System.DateTime"/>, kind unspecified); ML.NET's <c>DT</c>.</summary>
    DateTime,

    /// <summary>A date and time with an offset (<see cref="System.DateTimeOffset"/>); ML.NET's <c>DZ</c>.</summary>
    DateTimeOffset,
}
#pragma warning restore CA1720
