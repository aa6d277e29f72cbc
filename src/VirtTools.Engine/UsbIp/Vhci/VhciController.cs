namespace VirtTools.UsbIp.Vhci;

/// <summary>One vhci_hcd.N platform device and the files that control its ports (system paths; resolve under the root).</summary>
public sealed class VhciController
{
    /// <summary>"vhci_hcd.3".</summary>
    public required string Name { get; init; }

    public int Index { get; init; }

    public required string SysfsPath { get; init; }

    /// <summary>The status table of this controller's ports.</summary>
    public required string StatusPath { get; init; }

    /// <summary>Where "port sockfd devid speed" is written to attach a device to one of this controller's ports.</summary>
    public required string AttachPath { get; init; }

    /// <summary>Where a port number is written to detach it.</summary>
    public required string DetachPath { get; init; }

    public VhciLayout Layout { get; init; }

    /// <summary>
    /// What turns a port number this controller's files use into the global one: 0 on mainline, whose status files
    /// print global numbers; the ports of the controllers before it on the per-controller layout, whose status,
    /// attach and detach number each controller's ports from 0.
    /// </summary>
    public int PortBase { get; init; }

    /// <summary>The number this controller's attach and detach files take for a global port.</summary>
    public int ControllerPort(int port) => port - PortBase;

    /// <summary>
    /// The attach record's file name in /run/vhci_hcd, as the usbip tools of the layout name it: "port15" on
    /// mainline, "port&lt;controller&gt;-&lt;port&gt;" with the controller's own number on the per-controller layout.
    /// </summary>
    public string RecordFileName(int port) => Layout == VhciLayout.Mainline
        ? VhciPortRecord.FileName(port)
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"port{Index}-{ControllerPort(port)}");

    public override string ToString() => Name;
}
