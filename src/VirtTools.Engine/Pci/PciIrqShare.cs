namespace VirtTools.Pci;

/// <summary>One legacy INTx IRQ and the PCI functions wired to it.</summary>
public sealed class PciIrqShare
{
    public required int Irq { get; init; }

    /// <summary>The sharers' addresses.</summary>
    public required string[] Address { get; init; }

    public required PciDevice[] Devices { get; init; }

    /// <summary>More than one function uses the line.</summary>
    public bool IsShared => Devices.Length > 1;

    /// <summary>At least one sharer cannot be passed through with INTx while the line is in use (see BlockedAddress).</summary>
    public bool BlocksPassthrough => BlockedAddress.Length > 0;

    /// <summary>The sharers vfio-pci could not give an INTx interrupt, because it would need the line to itself.</summary>
    public required string[] BlockedAddress { get; init; }

    /// <summary>Why the line does or does not block passthrough, sharer by sharer.</summary>
    public required string Reason { get; init; }

    public required string Root { get; init; }

    public override string ToString() => Irq.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
