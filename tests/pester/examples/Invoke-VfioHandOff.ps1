# An example of a user's own automation over VirtTools, and the subject of Mocking.Tests.ps1: hand every network
# function of a host to vfio-pci, leaving alone those already on it. Dot-source it, or import the VfioHandOff module
# beside it, which exports the same function.

function Invoke-VfioHandOff {
    <#
    .SYNOPSIS
        Hands the host's network functions (PCI class 02) to vfio-pci, skipping those already there.
    .EXAMPLE
        Invoke-VfioHandOff -IncludeIommuGroup -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess)]
    param(
        # The filesystem root VirtTools reads (a captured tree in tests).
        [string] $Root = '/',
        # Also hand over the other members of each function's IOMMU group.
        [switch] $IncludeIommuGroup
    )
    $candidates = Get-PciDevice -Root $Root -Class 0x02 | Where-Object Driver -ne 'vfio-pci'
    foreach ($function in $candidates) {
        if ($PSCmdlet.ShouldProcess("$($function.Address) ($($function.Driver))", 'Hand to vfio-pci')) {
            # Confirmed above, once for this script; VirtTools need not ask again.
            Set-PciPassthrough -Root $Root -Address $function.Address -IncludeIommuGroup:$IncludeIommuGroup -Confirm:$false
        }
    }
}
