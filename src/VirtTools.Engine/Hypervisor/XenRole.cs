namespace VirtTools.Hypervisor;

/// <summary>What part this host plays under Xen.</summary>
public enum XenRole
{
    /// <summary>Not running on Xen.</summary>
    None,
    /// <summary>The privileged control domain: it owns the hardware and runs the toolstack.</summary>
    Dom0,
    /// <summary>An unprivileged Xen guest.</summary>
    DomU,
}
