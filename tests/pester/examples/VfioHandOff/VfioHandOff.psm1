# A user's module that wraps VirtTools: Mocking.Tests.ps1 mocks VirtTools cmdlets inside it with Mock -ModuleName.
. "$PSScriptRoot/../Invoke-VfioHandOff.ps1"
Export-ModuleMember -Function Invoke-VfioHandOff
