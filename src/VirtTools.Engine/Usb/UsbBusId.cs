using System.Globalization;

namespace VirtTools.Usb;

/// <summary>
/// The kernel's name for a USB device: "usbN" for the root hub of bus N, "B-P.P.P" for the device on bus B reached
/// through ports P.P.P. The name follows the physical port, so it stays the same when the device is replugged there.
/// Interfaces ("1-1:1.0") are not devices. Parsed once where a sysfs name, a wire record or a user's text arrives;
/// only the canonical form parses (no leading zeros), so <see cref="ToString"/> gives back exactly the kernel's name.
/// Values order as a person reads them: by bus, the root hub first, then port by port numerically.
/// </summary>
public readonly record struct UsbBusId : IComparable<UsbBusId>, IComparable
{
    /// <summary>
    /// The kernel nests at most six tiers below a root hub (MAX_TOPO_LEVEL) and a hub has at most 31 ports
    /// (USB_MAXCHILDREN); eight ports of up to 255 each leave room for both and pack into one ulong.
    /// </summary>
    public const int MaxDepth = 8;
    public const int MaxPort = 255;

    private const string RootHubPrefix = "usb";

    // The port path, the first port in the top byte and 0 after the last: comparing the numbers compares the paths
    // port by port, a shorter path (the hub) before the devices below it.
    private readonly ulong _path;

    private UsbBusId(int bus, ulong path)
    {
        Bus = bus;
        _path = path;
    }

    /// <summary>The bus number (the N of usbN); 0 only in the default value, which names no device.</summary>
    public int Bus { get; }

    /// <summary>The ports from the root hub down ("1-1.2" → 1, 2); empty for a root hub.</summary>
    public int[] Ports
    {
        get
        {
            var ports = new int[Depth];
            for (int i = 0; i < ports.Length; i++) ports[i] = PortAt(i);
            return ports;
        }
    }

    /// <summary>How many ports lie between the root hub and the device; 0 for a root hub.</summary>
    public int Depth
    {
        get
        {
            int depth = 0;
            while (depth < MaxDepth && PortAt(depth) != 0) depth++;
            return depth;
        }
    }

    public bool IsRootHub => _path == 0;

    /// <summary>The port of its parent hub the device is plugged into; null for a root hub.</summary>
    public int? Port => IsRootHub ? null : PortAt(Depth - 1);

    /// <summary>The hub the device hangs off: "1-1.2" → "1-1", "1-1" → "usb1"; null for a root hub.</summary>
    public UsbBusId? Parent => IsRootHub ? null : new UsbBusId(Bus, _path & ~(0xffUL << Shift(Depth - 1)));

    /// <summary>The root hub of bus <paramref name="bus"/> ("usb3").</summary>
    public static UsbBusId RootHub(int bus) =>
        bus > 0 ? new UsbBusId(bus, 0) : throw new ArgumentOutOfRangeException(nameof(bus), bus, "USB buses count from 1.");

    /// <summary>The device on port <paramref name="port"/> of this hub ("1-1" + 3 → "1-1.3").</summary>
    public UsbBusId Child(int port)
    {
        int depth = Depth;
        if (port is < 1 or > MaxPort || depth == MaxDepth)
            throw new ArgumentOutOfRangeException(nameof(port), port, $"{this} has no port {port} a bus id can name.");
        return new UsbBusId(Bus, _path | ((ulong)port << Shift(depth)));
    }

    /// <summary>Reads the kernel's name; false for interfaces, paths, non-canonical numbers and garbage.</summary>
    public static bool TryParse(string? text, out UsbBusId busId)
    {
        busId = default;
        if (string.IsNullOrEmpty(text)) return false;
        if (text.StartsWith(RootHubPrefix, StringComparison.Ordinal))
        {
            if (!TryNumber(text.AsSpan(RootHubPrefix.Length), int.MaxValue, out var rootBus)) return false;
            busId = new UsbBusId(rootBus, 0);
            return true;
        }
        int dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || !TryNumber(text.AsSpan(0, dash), int.MaxValue, out var bus)) return false;
        var ports = text[(dash + 1)..].Split('.');
        if (ports.Length > MaxDepth) return false;
        ulong path = 0;
        for (int depth = 0; depth < ports.Length; depth++)
        {
            if (!TryNumber(ports[depth], MaxPort, out var port)) return false;
            path |= (ulong)port << Shift(depth);
        }
        busId = new UsbBusId(bus, path);
        return true;
    }

    /// <summary>Reads the kernel's name; throws <see cref="FormatException"/> naming the text otherwise. PowerShell binds parameters through this.</summary>
    public static UsbBusId Parse(string text) =>
        TryParse(text, out var busId) ? busId
        : throw new FormatException($"'{text}' is not a USB bus id: give the kernel's name of a device, such as 1-1.2 (bus 1, port 1, then port 2), or usb1 for a root hub.");

    public int CompareTo(UsbBusId other) => Bus != other.Bus ? Bus.CompareTo(other.Bus) : _path.CompareTo(other._path);

    int IComparable.CompareTo(object? obj) => obj switch
    {
        null => 1,
        UsbBusId other => CompareTo(other),
        _ => throw new ArgumentException($"A UsbBusId compares only with another UsbBusId, not {obj.GetType().Name}.", nameof(obj)),
    };

    public static bool operator <(UsbBusId left, UsbBusId right) => left.CompareTo(right) < 0;
    public static bool operator >(UsbBusId left, UsbBusId right) => left.CompareTo(right) > 0;
    public static bool operator <=(UsbBusId left, UsbBusId right) => left.CompareTo(right) <= 0;
    public static bool operator >=(UsbBusId left, UsbBusId right) => left.CompareTo(right) >= 0;

    /// <summary>The kernel's name: "usb1", "1-1.2".</summary>
    public override string ToString()
    {
        if (IsRootHub) return RootHubPrefix + Bus.ToString(CultureInfo.InvariantCulture);
        var text = new System.Text.StringBuilder().Append(Bus.ToString(CultureInfo.InvariantCulture)).Append('-');
        for (int i = 0; i < MaxDepth && PortAt(i) != 0; i++)
            text.Append(i == 0 ? "" : ".").Append(PortAt(i).ToString(CultureInfo.InvariantCulture));
        return text.ToString();
    }

    private int PortAt(int index) => (int)((_path >> Shift(index)) & 0xff);

    private static int Shift(int index) => 8 * (MaxDepth - 1 - index);

    /// <summary>A decimal from 1 to <paramref name="max"/> written without sign, spaces or leading zeros.</summary>
    private static bool TryNumber(ReadOnlySpan<char> text, int max, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)
        && value >= 1 && value <= max && text[0] != '0';
}
