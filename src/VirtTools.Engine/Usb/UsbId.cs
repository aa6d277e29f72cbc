using System.Globalization;

namespace VirtTools.Usb;

/// <summary>
/// A USB device's vendor and product ids (idVendor, idProduct): what usb.ids, udev rules and lsusb name a model by,
/// written "046d:c52b". Parsed once where sysfs or a wire record is read; values order by vendor, then product.
/// </summary>
public readonly record struct UsbId(ushort Vendor, ushort Product) : IComparable<UsbId>, IComparable
{
    /// <summary>The vendor id as the public surface writes it: four lowercase hex digits ("046d").</summary>
    public string VendorId => Format(Vendor);

    /// <summary>The product id as four lowercase hex digits ("c52b").</summary>
    public string ProductId => Format(Product);

    /// <summary>Reads "046d:c52b" (each side one to four hex digits, an optional 0x, any case); false for anything else.</summary>
    public static bool TryParse(string? text, out UsbId id)
    {
        id = default;
        if (text is null) return false;
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !TryHalf(text.AsSpan(0, colon), out var vendor) || !TryHalf(text.AsSpan(colon + 1), out var product)) return false;
        id = new UsbId(vendor, product);
        return true;
    }

    /// <summary>Reads "046d:c52b"; throws <see cref="FormatException"/> naming the text otherwise. PowerShell binds parameters through this.</summary>
    public static UsbId Parse(string text) =>
        TryParse(text, out var id) ? id
        : throw new FormatException($"'{text}' is not a USB id: give vendor:product as hex, such as 046d:c52b.");

    public int CompareTo(UsbId other) => Vendor != other.Vendor ? Vendor.CompareTo(other.Vendor) : Product.CompareTo(other.Product);

    int IComparable.CompareTo(object? obj) => obj switch
    {
        null => 1,
        UsbId other => CompareTo(other),
        _ => throw new ArgumentException($"A UsbId compares only with another UsbId, not {obj.GetType().Name}.", nameof(obj)),
    };

    public override string ToString() => VendorId + ":" + ProductId;

    private static string Format(ushort id) => id.ToString("x4", CultureInfo.InvariantCulture);

    private static bool TryHalf(ReadOnlySpan<char> text, out ushort value)
    {
        value = 0;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) text = text[2..];
        return text.Length is >= 1 and <= 4 && ushort.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}
