namespace VirtTools.Usb;

/// <summary>
/// The kernel's names for USB devices: "usbN" for the root hub of bus N, "B-P.P.P" for the device on bus B reached
/// through ports P.P.P. The name follows the physical port, so it stays the same when the device is replugged there.
/// Interfaces ("1-1:1.0") are not devices.
/// </summary>
public static class UsbBusId
{
    private const string RootHubPrefix = "usb";

    /// <summary>Splits a device name into its bus number and port path (empty for a root hub); false for anything else.</summary>
    public static bool TryParse(string? busId, out int bus, out int[] ports)
    {
        bus = 0;
        ports = Array.Empty<int>();
        if (string.IsNullOrEmpty(busId)) return false;
        if (busId.StartsWith(RootHubPrefix, StringComparison.Ordinal))
            return TryPositive(busId[RootHubPrefix.Length..], out bus);
        int dash = busId.IndexOf('-');
        if (dash <= 0 || !TryPositive(busId[..dash], out bus)) return false;
        var parts = busId[(dash + 1)..].Split('.');
        var path = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!TryPositive(parts[i], out path[i])) return false;
        ports = path;
        return true;
    }

    /// <summary>True for "usb3" and "3-1.4"; false for interfaces, paths and garbage (so a name is safe to put in a path).</summary>
    public static bool IsValid(string? busId) => TryParse(busId, out _, out _);

    public static bool IsRootHub(string busId) => TryParse(busId, out _, out var ports) && ports.Length == 0;

    /// <summary>The hub a device hangs off: "1-1.2" → "1-1", "1-1" → "usb1", a root hub → null.</summary>
    public static string? Parent(string busId)
    {
        if (!TryParse(busId, out var bus, out var ports) || ports.Length == 0) return null;
        if (ports.Length == 1) return RootHubPrefix + bus.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return busId[..busId.LastIndexOf('.')];
    }

    /// <summary>Orders bus ids as a person reads them: by bus, root hub first, then port by port numerically.</summary>
    public static int Compare(string? x, string? y)
    {
        bool xOk = TryParse(x, out var xBus, out var xPorts), yOk = TryParse(y, out var yBus, out var yPorts);
        if (!xOk || !yOk) return xOk == yOk ? string.CompareOrdinal(x, y) : (xOk ? -1 : 1);
        if (xBus != yBus) return xBus.CompareTo(yBus);
        for (int i = 0; i < Math.Min(xPorts.Length, yPorts.Length); i++)
            if (xPorts[i] != yPorts[i]) return xPorts[i].CompareTo(yPorts[i]);
        return xPorts.Length.CompareTo(yPorts.Length);
    }

    public static IComparer<string> Comparer { get; } = Comparer<string>.Create(Compare);

    private static bool TryPositive(string text, out int value) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value) && value > 0;
}
