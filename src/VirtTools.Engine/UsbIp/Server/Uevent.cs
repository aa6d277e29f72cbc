using System.Text;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// One kernel uevent as NETLINK_KOBJECT_UEVENT's kernel group carries it: "ACTION@DEVPATH\0" then NUL-separated
/// KEY=value fields (ACTION, DEVPATH, SUBSYSTEM, DEVTYPE, DRIVER, SEQNUM...). Only what decides whether the USB/IP
/// device list may have changed is kept.
/// </summary>
public sealed record Uevent(string Action, string DevPath, string? Subsystem, string? DevType, string? Driver)
{
    /// <summary>
    /// The kernel builds a uevent in a 2 KiB environment buffer plus the "action@devpath" header; anything longer is
    /// not the kernel's and is ignored whole.
    /// </summary>
    public const int MaxDatagramBytes = 8192;

    /// <summary>Fields read at most (the kernel's UEVENT_NUM_ENVP is 64).</summary>
    private const int MaxFields = 64;

    /// <summary>
    /// Whether the devices bound to usbip-host, or what is read about them, may have changed: anything on the usb bus
    /// (devices and interfaces: add, remove, bind, unbind, change, move), a usb driver coming or going (usbip-host
    /// loaded or unloaded), and the usbip modules themselves.
    /// </summary>
    public bool IsUsbRelated =>
        Subsystem == "usb"
        || Driver == "usbip-host"
        || (Subsystem == "drivers" && DevPath.StartsWith("/bus/usb/", StringComparison.Ordinal))
        || (Subsystem == "module" && DevPath is "/module/usbip_host" or "/module/usbip_core");

    /// <summary>
    /// Reads one datagram; false for anything that is not a well-formed kernel uevent: too long, no "@" header,
    /// a header that disagrees with its ACTION or DEVPATH field, text that is not UTF-8, or udev's own
    /// re-broadcasts (they start "libudev\0" and belong to another multicast group).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out Uevent? uevent)
    {
        uevent = null;
        if (datagram.IsEmpty || datagram.Length > MaxDatagramBytes) return false;
        var headerEnd = datagram.IndexOf((byte)0);
        var header = headerEnd < 0 ? datagram : datagram[..headerEnd];
        var at = header.IndexOf((byte)'@');
        if (at <= 0 || at == header.Length - 1) return false;
        string? action = Text(header[..at]), devPath = Text(header[(at + 1)..]);
        if (action is null || devPath is null || devPath[0] != '/') return false;

        string? subsystem = null, devType = null, driver = null;
        var rest = headerEnd < 0 ? ReadOnlySpan<byte>.Empty : datagram[(headerEnd + 1)..];
        for (var fields = 0; !rest.IsEmpty && fields < MaxFields; fields++)
        {
            var end = rest.IndexOf((byte)0);
            var field = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlySpan<byte>.Empty : rest[(end + 1)..];
            var equals = field.IndexOf((byte)'=');
            if (equals <= 0) continue;
            var key = field[..equals];
            var value = field[(equals + 1)..];
            if (key.SequenceEqual("ACTION"u8) && !value.SequenceEqual(header[..at])) return false;
            if (key.SequenceEqual("DEVPATH"u8) && !value.SequenceEqual(header[(at + 1)..])) return false;
            if (key.SequenceEqual("SUBSYSTEM"u8)) subsystem = Text(value);
            else if (key.SequenceEqual("DEVTYPE"u8)) devType = Text(value);
            else if (key.SequenceEqual("DRIVER"u8)) driver = Text(value);
        }
        uevent = new Uevent(action, devPath, subsystem, devType, driver);
        return true;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string? Text(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return null;
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { return null; }
    }
}
