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

    public override string ToString() => Name;
}
