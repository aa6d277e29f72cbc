namespace VirtTools.Usb;

/// <summary>One interface of a USB device's active configuration ("1-1:1.0"): what it is and which driver serves it.</summary>
public sealed class UsbInterface
{
    /// <summary>The kernel's name, "&lt;bus id&gt;:&lt;configuration&gt;.&lt;interface&gt;".</summary>
    public required string Name { get; init; }

    /// <summary>bInterfaceNumber.</summary>
    public int? Number { get; init; }

    public int? AlternateSetting { get; init; }

    /// <summary>bInterfaceClass as two hex digits ("08").</summary>
    public string? Class { get; init; }

    public string? SubClass { get; init; }

    public string? Protocol { get; init; }

    /// <summary>The class name from usb.ids ("Mass Storage"); null without a database.</summary>
    public string? ClassName { get; init; }

    public int? EndpointCount { get; init; }

    /// <summary>The interface string the device reports, when it has one.</summary>
    public string? Description { get; init; }

    /// <summary>The driver bound to this interface ("usbhid", "usb-storage"); null when none is.</summary>
    public string? Driver { get; init; }

    public override string ToString() => $"{Name} {Class ?? "??"}/{SubClass ?? "??"}/{Protocol ?? "??"} {Driver ?? "(no driver)"}";
}
