using VirtTools.Usb;

namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// The form a USB device's bus id has in the kernel ("1-1", "2-3.4.1": bus, dash, port path), which is all a USB/IP
/// bus id may be: it names a sysfs directory and is written into sysfs files and /run/vhci_hcd records, so a peer's
/// bus id that is anything else (a traversal, a newline, bytes that are not ASCII, a field with no room for its NUL)
/// is refused where it arrives. Shared by the client (bus ids a server lists or returns) and the server (the bus id
/// an import asks for).
/// </summary>
public static class UsbIpBusIdText
{
    /// <summary>SYSFS_BUS_ID_SIZE less the terminating NUL.</summary>
    public const int MaxLength = UsbIpProtocol.BusIdFieldSize - 1;

    /// <summary>Why <paramref name="text"/> is not a bus id, as a clause for a message ("is 32 characters long..."); null when it is one.</summary>
    public static string? FindProblem(string text)
    {
        if (text.Length == 0) return "is empty";
        if (text.Length > MaxLength)
            return $"is {text.Length} characters long; a bus id has at most {MaxLength} (the protocol's {UsbIpProtocol.BusIdFieldSize}-byte field ends with a NUL)";
        return UsbBusId.TryParse(text, out var busId) && !busId.IsRootHub ? null : "is not a USB bus id of the form BUS-PORT[.PORT]... (such as 1-1.2)";
    }
}
